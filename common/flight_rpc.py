"""RPC between Eddy processes over Arrow Flight (part of pyarrow).

Control calls are Flight actions whose bodies are `common.codec` JSON; an
`EddyError` raised by a handler reaches the caller as the same error class
with its SQLSTATE. Streams carry Arrow record batches: `do_exchange` for
chunks between actors on different nodes (one stream per channel, so a
slow consumer holds back exactly its producer), `do_get` for batch query
results and for meta's notifications.

Flight runs handlers on its own threads; `RpcServer` hands each call to the
node's asyncio loop and waits. Clients call from the loop through a thread
pool, so no call blocks the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.flight as fl

from common import codec, errors
from common.chunk import OPS_TYPE, StreamChunk
from common.message import Barrier, Message, Watermark

log = logging.getLogger("eddy.rpc")

# Blocking Flight calls (long polls, streams held back by back-pressure) each hold a thread.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="eddy-rpc")
CALL_TIMEOUT_S = 30.0

ActionHandler = Callable[[Any], Awaitable[Any]]
GetHandler = Callable[[Any], AsyncIterator[pa.RecordBatch]]
ExchangeHandler = Callable[[Any, "ExchangeReader"], Awaitable[None]]


class RpcUnavailable(errors.ConnectionFailure):
    """The other process cannot be reached (not started, gone, or restarting)."""


def _encode_error(e: errors.EddyError) -> str:
    return json.dumps({"eddy": type(e).__name__, "sqlstate": e.sqlstate, "message": e.message,
                       "detail": e.detail, "hint": e.hint})


def one_line(text: str, limit: int = 300) -> str:
    """The first line of a message, bounded: nothing multi-line (a traceback) reaches a client."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:limit]


def _decode_error(exc: BaseException) -> Exception:
    if not isinstance(exc, fl.FlightError):
        return RpcUnavailable(f"the connection to the node failed: {one_line(str(exc)) or type(exc).__name__}")
    text = str(exc)
    start = text.find('{"eddy"')
    if start >= 0:
        try:
            payload, _ = json.JSONDecoder().raw_decode(text[start:])
            cls = getattr(errors, payload["eddy"], None)
            if isinstance(cls, type) and issubclass(cls, errors.EddyError):
                return cls(payload["message"], detail=payload.get("detail"), hint=payload.get("hint"))
            err = errors.EddyError(payload["message"], detail=payload.get("detail"), hint=payload.get("hint"))
            err.sqlstate = payload["sqlstate"]
            return err
        except (ValueError, KeyError):
            pass
    if isinstance(exc, fl.FlightUnavailableError):
        return RpcUnavailable(f"cannot reach the node: {one_line(text) or 'unavailable'}")
    return errors.InternalError(f"rpc failed: {one_line(text) or type(exc).__name__}")


# -- stream messages as Arrow ------------------------------------------------------

_CHUNK, _BARRIER, _WATERMARK = b"C", b"B", b"W"


def message_schema(types: Any) -> pa.Schema:
    """The Arrow schema of a stream of chunks with these column types (plus the ops column)."""
    fields = [pa.field(f"c{i}", t.arrow) for i, t in enumerate(types)]
    return pa.schema([*fields, pa.field("__ops", OPS_TYPE)])


def encode_chunk(chunk: StreamChunk) -> pa.RecordBatch:
    arrays = [*chunk.columns, chunk.ops]
    names = [f"c{i}" for i in range(chunk.num_columns)] + ["__ops"]
    return pa.RecordBatch.from_arrays(arrays, names)


def decode_chunk(batch: pa.RecordBatch) -> StreamChunk:
    n = batch.num_columns - 1
    return StreamChunk.from_arrays(batch.column(n), [batch.column(i) for i in range(n)])


def encode_control(msg: Barrier | Watermark) -> bytes:
    return (_BARRIER if isinstance(msg, Barrier) else _WATERMARK) + codec.dumps(msg).encode()


def decode_message(data: pa.RecordBatch | None, metadata: pa.Buffer | None) -> Message:
    tag = metadata.to_pybytes() if metadata is not None else _CHUNK
    if tag[:1] == _CHUNK:
        assert data is not None
        return decode_chunk(data)
    msg = codec.loads(tag[1:].decode())
    assert isinstance(msg, (Barrier, Watermark))
    return msg


class ExchangeReader:
    """The receiving end of an exchange stream, on a Flight server thread."""

    def __init__(self, reader: fl.MetadataRecordBatchReader) -> None:
        self._reader = reader

    def __iter__(self) -> Iterator[Message]:
        while True:
            try:
                chunk = self._reader.read_chunk()
            except StopIteration:
                return
            yield decode_message(chunk.data, chunk.app_metadata)


# -- server ----------------------------------------------------------------------------

class RpcServer(fl.FlightServerBase):
    """A Flight server dispatching to coroutines on `loop`."""

    def __init__(self, host: str, port: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(f"grpc://{host}:{port}")
        self.loop = loop
        self.actions: dict[str, ActionHandler] = {}
        self.gets: dict[str, GetHandler] = {}
        self.exchanges: dict[str, Callable[[Any, ExchangeReader], None]] = {}

    def _run(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()  # type: ignore[arg-type]

    def do_action(self, context: fl.ServerCallContext, action: fl.Action) -> Iterator[fl.Result]:
        handler = self.actions.get(action.type)
        if handler is None:
            raise fl.FlightServerError(f"unknown action {action.type}")
        try:
            request = codec.loads(action.body.to_pybytes().decode())
            response = self._run(handler(request))
        except errors.EddyError as e:
            raise fl.FlightServerError(_encode_error(e)) from None
        except Exception as e:
            log.exception("rpc %s failed", action.type)
            raise fl.FlightServerError(_encode_error(errors.InternalError(f"{type(e).__name__}: {e}"))) from None
        yield fl.Result(pa.py_buffer(codec.dumps(response).encode()))

    def do_get(self, context: fl.ServerCallContext, ticket: fl.Ticket) -> fl.FlightDataStream:
        try:
            kind, request = codec.loads(ticket.ticket.decode())
            iterator = self.gets[kind](request)
            first = self._run(_next_or_none(iterator))
        except errors.EddyError as e:
            raise fl.FlightServerError(_encode_error(e)) from None
        except Exception as e:
            log.exception("rpc stream failed")
            raise fl.FlightServerError(_encode_error(errors.InternalError(f"{type(e).__name__}: {e}"))) from None
        if first is None:
            raise fl.FlightServerError(_encode_error(errors.InternalError("stream produced no schema")))

        def rest() -> Iterator[pa.RecordBatch]:
            batch = first
            while batch is not None:
                yield batch
                try:
                    batch = self._run(_next_or_none(iterator))
                except errors.EddyError as e:
                    raise fl.FlightServerError(_encode_error(e)) from None
                except Exception as e:
                    log.exception("rpc stream failed")
                    raise fl.FlightServerError(_encode_error(errors.InternalError(f"{type(e).__name__}: {e}"))) \
                        from None
            self._run(iterator.aclose())  # type: ignore[attr-defined]

        return fl.GeneratorStream(first.schema, rest())

    def do_exchange(self, context: fl.ServerCallContext, descriptor: fl.FlightDescriptor,
                    reader: fl.MetadataRecordBatchReader, writer: fl.MetadataRecordBatchWriter) -> None:
        kind, request = codec.loads(descriptor.command.decode())
        handler = self.exchanges.get(kind)
        if handler is None:
            raise fl.FlightServerError(f"unknown exchange {kind}")
        try:
            handler(request, ExchangeReader(reader))
        except errors.EddyError as e:
            raise fl.FlightServerError(_encode_error(e)) from None


async def _next_or_none(it: AsyncIterator[pa.RecordBatch]) -> pa.RecordBatch | None:
    try:
        return await anext(it)
    except StopAsyncIteration:
        return None


def start_server(host: str, port: int) -> RpcServer:
    """A server on the running loop; `port` 0 picks a free port (see `.port`)."""
    server = RpcServer(host, port, asyncio.get_running_loop())
    _POOL.submit(server.serve)
    return server


# -- client ----------------------------------------------------------------------------

def parse_address(address: str) -> str:
    """`http://host:port`, `grpc://host:port` or `host:port` -> a Flight location."""
    for prefix in ("http://", "https://", "grpc://", "grpc+tcp://"):
        if address.startswith(prefix):
            address = address[len(prefix):]
    return f"grpc://{address.rstrip('/')}"


class RpcClient:
    """Calls one process's RpcServer; safe to share within a process."""

    def __init__(self, address: str, timeout_s: float = CALL_TIMEOUT_S) -> None:
        self.address = address
        self.location = parse_address(address)
        self._client = fl.FlightClient(self.location)
        self.timeout_s = timeout_s

    def close(self) -> None:
        self._client.close()

    def call_sync(self, method: str, request: Any = None, timeout_s: float | None = None) -> Any:
        options = fl.FlightCallOptions(timeout=timeout_s or self.timeout_s)
        try:
            results = list(self._client.do_action(fl.Action(method, codec.dumps(request).encode()), options))
        except (fl.FlightError, OSError, pa.ArrowException) as e:
            raise _decode_error(e) from None
        return codec.loads(results[0].body.to_pybytes().decode()) if results else None

    async def call(self, method: str, request: Any = None, timeout_s: float | None = None) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_POOL, self.call_sync, method, request, timeout_s)

    async def stream(self, kind: str, request: Any, timeout_s: float | None = None) -> AsyncIterator[pa.RecordBatch]:
        """Batches of a `do_get` stream, read on a pool thread."""
        loop = asyncio.get_running_loop()
        options = fl.FlightCallOptions(timeout=timeout_s) if timeout_s else fl.FlightCallOptions()
        ticket = fl.Ticket(codec.dumps([kind, request]).encode())
        try:
            reader = await loop.run_in_executor(_POOL, lambda: self._client.do_get(ticket, options))
        except (fl.FlightError, OSError, pa.ArrowException) as e:
            raise _decode_error(e) from None

        def next_batch() -> pa.RecordBatch | None:
            try:
                return reader.read_chunk().data
            except StopIteration:
                return None
            except (fl.FlightError, OSError, pa.ArrowException) as e:
                raise _decode_error(e) from None

        try:
            while True:
                batch = await loop.run_in_executor(_POOL, next_batch)
                if batch is None:
                    return
                yield batch
        finally:
            reader.cancel()

    async def open_exchange(self, kind: str, request: Any, schema: pa.Schema) -> ExchangeWriter:
        loop = asyncio.get_running_loop()
        descriptor = fl.FlightDescriptor.for_command(codec.dumps([kind, request]).encode())

        def open_stream() -> tuple[fl.FlightStreamWriter, fl.FlightStreamReader]:
            writer, reader = self._client.do_exchange(descriptor)
            writer.begin(schema)
            return writer, reader

        try:
            writer, reader = await loop.run_in_executor(_POOL, open_stream)
        except (fl.FlightError, OSError, pa.ArrowException) as e:
            raise _decode_error(e) from None
        return ExchangeWriter(writer, reader)


class ExchangeWriter:
    """The sending end of an exchange stream. A write waits while the receiver is behind.

    Each stream writes on a thread of its own: a blocked stream (its receiver is behind) must hold
    back only its producer, never another stream's writes (barriers must get through to align) nor
    the node's control calls, as it would by occupying a shared pool.
    """

    def __init__(self, writer: fl.FlightStreamWriter, reader: fl.FlightStreamReader) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="eddy-exchange")

    def _write(self, msg: Message) -> None:
        try:
            if isinstance(msg, StreamChunk):
                self._writer.write_with_metadata(encode_chunk(msg), pa.py_buffer(_CHUNK))
            else:
                self._writer.write_metadata(pa.py_buffer(encode_control(msg)))
        except (fl.FlightError, OSError, pa.ArrowException) as e:
            raise _decode_error(e) from None

    async def send(self, msg: Message) -> None:
        async with self._lock:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._write, msg)

    async def close(self) -> None:
        def finish() -> None:
            try:
                self._writer.done_writing()
                self._writer.close()
            except (fl.FlightError, OSError):
                pass

        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, finish)
        finally:
            self._thread.shutdown(wait=False)
