"""An object store on S3 or any S3-compatible server (MinIO, moto); the only module that imports boto3.

Timeouts and retries are set explicitly: the SDK's defaults turn a 5 %
rate of 503 SlowDown into a fivefold slowdown of checkpoint uploads
(research/reliability.md §3), so each call gets a 2 s connect and 8 s read
timeout and at most 4 attempts with the SDK's capped "standard" backoff.
boto3 is blocking; every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.errors import ObjectNotFound, ObjectStoreError
from storage.object_store import ObjectMeta

_CONNECT_TIMEOUT_S = 2.0
_READ_TIMEOUT_S = 8.0
_MAX_ATTEMPTS = 4
_DELETE_BATCH = 1000  # S3's limit per DeleteObjects request
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


class S3ObjectStore:
    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None, create_bucket: bool = False) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        config = Config(
            connect_timeout=_CONNECT_TIMEOUT_S,
            read_timeout=_READ_TIMEOUT_S,
            # total_max_attempts counts the first try; botocore's max_attempts would not.
            retries={"mode": "standard", "total_max_attempts": _MAX_ATTEMPTS},
            max_pool_connections=32,
        )
        # Credentials left as None fall back to boto3's chain (environment, profile, instance role).
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )
        self._bucket_checked = not create_bucket

    def _full(self, key: str) -> str:
        return self._prefix + key

    async def _call(self, fn: str, key: str, **kwargs: Any) -> Any:
        if not self._bucket_checked:
            await asyncio.to_thread(self._ensure_bucket)
        try:
            return await asyncio.to_thread(getattr(self._client, fn), **kwargs)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES:
                raise ObjectNotFound(key) from None
            raise ObjectStoreError(f"s3 {fn} of {key} failed: {code or e}") from e
        except BotoCoreError as e:
            raise ObjectStoreError(f"s3 {fn} of {key} failed: {e}") from e

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError:
            try:
                self._client.create_bucket(Bucket=self._bucket)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._bucket_checked = True

    async def put(self, key: str, data: bytes) -> None:
        await self._call("put_object", key, Bucket=self._bucket, Key=self._full(key), Body=data)

    async def get(self, key: str) -> bytes:
        resp = await self._call("get_object", key, Bucket=self._bucket, Key=self._full(key))
        return await asyncio.to_thread(resp["Body"].read)

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        try:
            resp = await self._call("get_object", key, Bucket=self._bucket, Key=self._full(key),
                                    Range=f"bytes={start}-{end - 1}")
        except ObjectStoreError as e:
            if "InvalidRange" in str(e):  # start at or past the end of the object
                return b""
            raise
        return await asyncio.to_thread(resp["Body"].read)

    async def size(self, key: str) -> int:
        resp = await self._call("head_object", key, Bucket=self._bucket, Key=self._full(key))
        return int(resp["ContentLength"])

    async def delete_many(self, keys: Sequence[str]) -> None:
        for i in range(0, len(keys), _DELETE_BATCH):
            batch = keys[i:i + _DELETE_BATCH]
            resp = await self._call("delete_objects", batch[0], Bucket=self._bucket, Delete={
                "Objects": [{"Key": self._full(k)} for k in batch], "Quiet": True})
            errors = [e for e in resp.get("Errors", []) if e.get("Code") not in _MISSING_CODES]
            if errors:
                raise ObjectStoreError(f"s3 delete of {errors[0].get('Key')} failed: {errors[0].get('Code')}")

    async def list(self, prefix: str = "") -> list[ObjectMeta]:
        return await asyncio.to_thread(self._list_sync, prefix)

    def _list_sync(self, prefix: str) -> builtins.list[ObjectMeta]:
        if not self._bucket_checked:
            self._ensure_bucket()
        out: builtins.list[ObjectMeta] = []
        strip = len(self._prefix)
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._full(prefix)):
                for obj in page.get("Contents", []):
                    out.append(ObjectMeta(obj["Key"][strip:], int(obj["Size"]), obj["LastModified"].timestamp()))
        except (ClientError, BotoCoreError) as e:
            raise ObjectStoreError(f"s3 list of {prefix} failed: {e}") from e
        return out
