"""Column lists of the system relations, as PostgreSQL 15 defines them.

One string per relation: `name type, name type, ...`. Types are
PostgreSQL's short names; those Eddy has no type for are read as the
nearest one it has (`pg_node_tree`, `aclitem[]`, `inet` and `bytea` as
text, `xid` as oid, `anyarray` as text[]). information_schema's domains
are read as their base types (sql_identifier as name, character_data and
yes_or_no as varchar, cardinal_number as integer).
"""

from __future__ import annotations

PG_CATALOG: dict[str, str] = {
    "pg_aggregate": (
        "aggfnoid regproc, aggkind char, aggnumdirectargs int2, aggtransfn regproc, aggfinalfn regproc, "
        "aggcombinefn regproc, aggserialfn regproc, aggdeserialfn regproc, aggmtransfn regproc, "
        "aggminvtransfn regproc, aggmfinalfn regproc, aggfinalextra bool, aggmfinalextra bool, aggfinalmodify "
        "char, aggmfinalmodify char, aggsortop oid, aggtranstype oid, aggtransspace int4, aggmtranstype oid, "
        "aggmtransspace int4, agginitval text, aggminitval text"
    ),
    "pg_am": "oid oid, amname name, amhandler regproc, amtype char",
    "pg_attrdef": "oid oid, adrelid oid, adnum int2, adbin pg_node_tree",
    "pg_attribute": (
        "attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, attndims "
        "int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, "
        "attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, "
        "attgenerated char, attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, attacl "
        "aclitem[], attoptions text[], attfdwoptions text[], attmissingval anyarray"
    ),
    "pg_auth_members": "roleid oid, member oid, grantor oid, admin_option bool",
    "pg_authid": (
        "oid oid, rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, "
        "rolcanlogin bool, rolreplication bool, rolbypassrls bool, rolconnlimit int4, rolpassword text, "
        "rolvaliduntil timestamptz"
    ),
    "pg_available_extensions": "name name, default_version text, installed_version text, comment text",
    "pg_cast": "oid oid, castsource oid, casttarget oid, castfunc oid, castcontext char, castmethod char",
    "pg_class": (
        "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, "
        "relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, "
        "reltoastrelid oid, relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts "
        "int2, relchecks int2, relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity "
        "bool, relforcerowsecurity bool, relispopulated bool, relreplident char, relispartition bool, "
        "relrewrite oid, relfrozenxid xid, relminmxid xid, relacl aclitem[], reloptions text[], relpartbound "
        "pg_node_tree"
    ),
    "pg_collation": (
        "oid oid, collname name, collnamespace oid, collowner oid, collprovider char, collisdeterministic "
        "bool, collencoding int4, collcollate text, collctype text, colliculocale text, collversion text"
    ),
    "pg_constraint": (
        "oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, "
        "convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, "
        "confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, "
        "connoinherit bool, conkey int2[], confkey int2[], conpfeqop oid[], conppeqop oid[], conffeqop oid[], "
        "confdelsetcols int2[], conexclop oid[], conbin pg_node_tree"
    ),
    "pg_conversion": (
        "oid oid, conname name, connamespace oid, conowner oid, conforencoding int4, contoencoding int4, "
        "conproc regproc, condefault bool"
    ),
    "pg_cursors": (
        "name text, statement text, is_holdable bool, is_binary bool, is_scrollable bool, creation_time "
        "timestamptz"
    ),
    "pg_database": (
        "oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, "
        "datallowconn bool, datconnlimit int4, datfrozenxid xid, datminmxid xid, dattablespace oid, "
        "datcollate text, datctype text, daticulocale text, datcollversion text, datacl aclitem[]"
    ),
    "pg_default_acl": "oid oid, defaclrole oid, defaclnamespace oid, defaclobjtype char, defaclacl aclitem[]",
    "pg_depend": "classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype char",
    "pg_description": "objoid oid, classoid oid, objsubid int4, description text",
    "pg_enum": "oid oid, enumtypid oid, enumsortorder float4, enumlabel name",
    "pg_event_trigger": "oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, evtenabled char, evttags text[]",
    "pg_extension": (
        "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text, "
        "extconfig oid[], extcondition text[]"
    ),
    "pg_foreign_data_wrapper": (
        "oid oid, fdwname name, fdwowner oid, fdwhandler oid, fdwvalidator oid, fdwacl aclitem[], fdwoptions "
        "text[]"
    ),
    "pg_foreign_server": (
        "oid oid, srvname name, srvowner oid, srvfdw oid, srvtype text, srvversion text, srvacl aclitem[], "
        "srvoptions text[]"
    ),
    "pg_foreign_table": "ftrelid oid, ftserver oid, ftoptions text[]",
    "pg_group": "groname name, grosysid oid, grolist oid[]",
    "pg_index": (
        "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, indnullsnotdistinct "
        "bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid "
        "bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey int2vector, "
        "indcollation oidvector, indclass oidvector, indoption int2vector, indexprs pg_node_tree, indpred "
        "pg_node_tree"
    ),
    "pg_indexes": "schemaname name, tablename name, indexname name, tablespace name, indexdef text",
    "pg_inherits": "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool",
    "pg_init_privs": "objoid oid, classoid oid, objsubid int4, privtype char, initprivs aclitem[]",
    "pg_language": (
        "oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool, lanplcallfoid oid, laninline "
        "oid, lanvalidator oid, lanacl aclitem[]"
    ),
    "pg_largeobject_metadata": "oid oid, lomowner oid, lomacl aclitem[]",
    "pg_locks": (
        "locktype text, database oid, relation oid, page int4, tuple int2, virtualxid text, transactionid "
        "xid, classid oid, objid oid, objsubid int2, virtualtransaction text, pid int4, mode text, granted "
        "bool, fastpath bool, waitstart timestamptz"
    ),
    "pg_matviews": (
        "schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes bool, ispopulated "
        "bool, definition text"
    ),
    "pg_namespace": "oid oid, nspname name, nspowner oid, nspacl aclitem[]",
    "pg_opclass": (
        "oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, opcintype oid, "
        "opcdefault bool, opckeytype oid"
    ),
    "pg_operator": (
        "oid oid, oprname name, oprnamespace oid, oprowner oid, oprkind char, oprcanmerge bool, oprcanhash "
        "bool, oprleft oid, oprright oid, oprresult oid, oprcom oid, oprnegate oid, oprcode regproc, oprrest "
        "regproc, oprjoin regproc"
    ),
    "pg_opfamily": "oid oid, opfmethod oid, opfname name, opfnamespace oid, opfowner oid",
    "pg_partitioned_table": (
        "partrelid oid, partstrat char, partnatts int2, partdefid oid, partattrs int2vector, partclass "
        "oidvector, partcollation oidvector, partexprs pg_node_tree"
    ),
    "pg_policy": (
        "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles oid[], polqual "
        "pg_node_tree, polwithcheck pg_node_tree"
    ),
    "pg_prepared_statements": (
        "name text, statement text, prepare_time timestamptz, parameter_types regtype[], from_sql bool, "
        "generic_plans int8, custom_plans int8"
    ),
    "pg_proc": (
        "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, prorows float4, "
        "provariadic oid, prosupport regproc, prokind char, prosecdef bool, proleakproof bool, proisstrict "
        "bool, proretset bool, provolatile char, proparallel char, pronargs int2, pronargdefaults int2, "
        "prorettype oid, proargtypes oidvector, proallargtypes oid[], proargmodes char[], proargnames text[], "
        "proargdefaults pg_node_tree, protrftypes oid[], prosrc text, probin text, prosqlbody pg_node_tree, "
        "proconfig text[], proacl aclitem[]"
    ),
    "pg_publication": (
        "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, pubdelete "
        "bool, pubtruncate bool, pubviaroot bool"
    ),
    "pg_publication_namespace": "oid oid, pnpubid oid, pnnspid oid",
    "pg_publication_rel": "oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector",
    "pg_range": (
        "rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, rngcanonical "
        "regproc, rngsubdiff regproc"
    ),
    "pg_rewrite": (
        "oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool, ev_qual "
        "pg_node_tree, ev_action pg_node_tree"
    ),
    "pg_roles": (
        "rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin "
        "bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, "
        "rolbypassrls bool, rolconfig text[], oid oid"
    ),
    "pg_seclabel": "objoid oid, classoid oid, objsubid int4, provider text, label text",
    "pg_sequence": (
        "seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, seqcache "
        "int8, seqcycle bool"
    ),
    "pg_sequences": (
        "schemaname name, sequencename name, sequenceowner name, data_type regtype, start_value int8, "
        "min_value int8, max_value int8, increment_by int8, cycle bool, cache_size int8, last_value int8"
    ),
    "pg_settings": (
        "name text, setting text, unit text, category text, short_desc text, extra_desc text, context text, "
        "vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text, reset_val "
        "text, sourcefile text, sourceline int4, pending_restart bool"
    ),
    "pg_shadow": (
        "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd "
        "text, valuntil timestamptz, useconfig text[]"
    ),
    "pg_shdescription": "objoid oid, classoid oid, description text",
    "pg_shseclabel": "objoid oid, classoid oid, provider text, label text",
    "pg_stat_activity": (
        "datid oid, datname name, pid int4, leader_pid int4, usesysid oid, usename name, application_name "
        "text, client_addr inet, client_hostname text, client_port int4, backend_start timestamptz, "
        "xact_start timestamptz, query_start timestamptz, state_change timestamptz, wait_event_type text, "
        "wait_event text, state text, backend_xid xid, backend_xmin xid, query_id int8, query text, "
        "backend_type text"
    ),
    "pg_stat_all_indexes": (
        "relid oid, indexrelid oid, schemaname name, relname name, indexrelname name, idx_scan int8, "
        "idx_tup_read int8, idx_tup_fetch int8"
    ),
    "pg_stat_all_tables": (
        "relid oid, schemaname name, relname name, seq_scan int8, seq_tup_read int8, idx_scan int8, "
        "idx_tup_fetch int8, n_tup_ins int8, n_tup_upd int8, n_tup_del int8, n_tup_hot_upd int8, n_live_tup "
        "int8, n_dead_tup int8, n_mod_since_analyze int8, n_ins_since_vacuum int8, last_vacuum timestamptz, "
        "last_autovacuum timestamptz, last_analyze timestamptz, last_autoanalyze timestamptz, vacuum_count "
        "int8, autovacuum_count int8, analyze_count int8, autoanalyze_count int8"
    ),
    "pg_stat_database": (
        "datid oid, datname name, numbackends int4, xact_commit int8, xact_rollback int8, blks_read int8, "
        "blks_hit int8, tup_returned int8, tup_fetched int8, tup_inserted int8, tup_updated int8, tup_deleted "
        "int8, conflicts int8, temp_files int8, temp_bytes int8, deadlocks int8, checksum_failures int8, "
        "checksum_last_failure timestamptz, blk_read_time float8, blk_write_time float8, session_time float8, "
        "active_time float8, idle_in_transaction_time float8, sessions int8, sessions_abandoned int8, "
        "sessions_fatal int8, sessions_killed int8, stats_reset timestamptz"
    ),
    "pg_stat_user_indexes": (
        "relid oid, indexrelid oid, schemaname name, relname name, indexrelname name, idx_scan int8, "
        "idx_tup_read int8, idx_tup_fetch int8"
    ),
    "pg_stat_user_tables": (
        "relid oid, schemaname name, relname name, seq_scan int8, seq_tup_read int8, idx_scan int8, "
        "idx_tup_fetch int8, n_tup_ins int8, n_tup_upd int8, n_tup_del int8, n_tup_hot_upd int8, n_live_tup "
        "int8, n_dead_tup int8, n_mod_since_analyze int8, n_ins_since_vacuum int8, last_vacuum timestamptz, "
        "last_autovacuum timestamptz, last_analyze timestamptz, last_autoanalyze timestamptz, vacuum_count "
        "int8, autovacuum_count int8, analyze_count int8, autoanalyze_count int8"
    ),
    "pg_statio_all_tables": (
        "relid oid, schemaname name, relname name, heap_blks_read int8, heap_blks_hit int8, idx_blks_read "
        "int8, idx_blks_hit int8, toast_blks_read int8, toast_blks_hit int8, tidx_blks_read int8, "
        "tidx_blks_hit int8"
    ),
    "pg_statio_user_tables": (
        "relid oid, schemaname name, relname name, heap_blks_read int8, heap_blks_hit int8, idx_blks_read "
        "int8, idx_blks_hit int8, toast_blks_read int8, toast_blks_hit int8, tidx_blks_read int8, "
        "tidx_blks_hit int8"
    ),
    "pg_statistic_ext": (
        "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, stxkeys "
        "int2vector, stxkind char[], stxexprs pg_node_tree"
    ),
    "pg_tables": (
        "schemaname name, tablename name, tableowner name, tablespace name, hasindexes bool, hasrules bool, "
        "hastriggers bool, rowsecurity bool"
    ),
    "pg_tablespace": "oid oid, spcname name, spcowner oid, spcacl aclitem[], spcoptions text[]",
    "pg_timezone_abbrevs": "abbrev text, utc_offset interval, is_dst bool",
    "pg_timezone_names": "name text, abbrev text, utc_offset interval, is_dst bool",
    "pg_transform": "oid oid, trftype oid, trflang oid, trffromsql regproc, trftosql regproc",
    "pg_trigger": (
        "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, "
        "tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, "
        "tginitdeferred bool, tgnargs int2, tgattr int2vector, tgargs bytea, tgqual pg_node_tree, tgoldtable "
        "name, tgnewtable name"
    ),
    "pg_ts_config": "oid oid, cfgname name, cfgnamespace oid, cfgowner oid, cfgparser oid",
    "pg_ts_dict": "oid oid, dictname name, dictnamespace oid, dictowner oid, dicttemplate oid, dictinitoption text",
    "pg_ts_parser": (
        "oid oid, prsname name, prsnamespace oid, prsstart regproc, prstoken regproc, prsend regproc, "
        "prsheadline regproc, prslextype regproc"
    ),
    "pg_ts_template": "oid oid, tmplname name, tmplnamespace oid, tmplinit regproc, tmpllexize regproc",
    "pg_type": (
        "oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, "
        "typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript "
        "regproc, typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend "
        "regproc, typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, "
        "typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin "
        "pg_node_tree, typdefault text, typacl aclitem[]"
    ),
    "pg_user": (
        "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd "
        "text, valuntil timestamptz, useconfig text[]"
    ),
    "pg_user_mapping": "oid oid, umuser oid, umserver oid, umoptions text[]",
    "pg_views": "schemaname name, viewname name, viewowner name, definition text",
}

INFORMATION_SCHEMA: dict[str, str] = {
    "applicable_roles": "grantee name, role_name name, is_grantable varchar",
    "character_sets": (
        "character_set_catalog name, character_set_schema name, character_set_name name, character_repertoire "
        "name, form_of_use name, default_collate_catalog name, default_collate_schema name, "
        "default_collate_name name"
    ),
    "check_constraints": "constraint_catalog name, constraint_schema name, constraint_name name, check_clause varchar",
    "column_privileges": (
        "grantor name, grantee name, table_catalog name, table_schema name, table_name name, column_name "
        "name, privilege_type varchar, is_grantable varchar"
    ),
    "columns": (
        "table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4, "
        "column_default varchar, is_nullable varchar, data_type varchar, character_maximum_length int4, "
        "character_octet_length int4, numeric_precision int4, numeric_precision_radix int4, numeric_scale "
        "int4, datetime_precision int4, interval_type varchar, interval_precision int4, character_set_catalog "
        "name, character_set_schema name, character_set_name name, collation_catalog name, collation_schema "
        "name, collation_name name, domain_catalog name, domain_schema name, domain_name name, udt_catalog "
        "name, udt_schema name, udt_name name, scope_catalog name, scope_schema name, scope_name name, "
        "maximum_cardinality int4, dtd_identifier name, is_self_referencing varchar, is_identity varchar, "
        "identity_generation varchar, identity_start varchar, identity_increment varchar, identity_maximum "
        "varchar, identity_minimum varchar, identity_cycle varchar, is_generated varchar, "
        "generation_expression varchar, is_updatable varchar"
    ),
    "constraint_column_usage": (
        "table_catalog name, table_schema name, table_name name, column_name name, constraint_catalog name, "
        "constraint_schema name, constraint_name name"
    ),
    "constraint_table_usage": (
        "table_catalog name, table_schema name, table_name name, constraint_catalog name, constraint_schema "
        "name, constraint_name name"
    ),
    "domains": (
        "domain_catalog name, domain_schema name, domain_name name, data_type varchar, "
        "character_maximum_length int4, character_octet_length int4, character_set_catalog name, "
        "character_set_schema name, character_set_name name, collation_catalog name, collation_schema name, "
        "collation_name name, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, "
        "datetime_precision int4, interval_type varchar, interval_precision int4, domain_default varchar, "
        "udt_catalog name, udt_schema name, udt_name name, scope_catalog name, scope_schema name, scope_name "
        "name, maximum_cardinality int4, dtd_identifier name"
    ),
    "enabled_roles": "role_name name",
    "information_schema_catalog_name": "catalog_name name",
    "key_column_usage": (
        "constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, "
        "table_schema name, table_name name, column_name name, ordinal_position int4, "
        "position_in_unique_constraint int4"
    ),
    "parameters": (
        "specific_catalog name, specific_schema name, specific_name name, ordinal_position int4, "
        "parameter_mode varchar, is_result varchar, as_locator varchar, parameter_name name, data_type "
        "varchar, character_maximum_length int4, character_octet_length int4, character_set_catalog name, "
        "character_set_schema name, character_set_name name, collation_catalog name, collation_schema name, "
        "collation_name name, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, "
        "datetime_precision int4, interval_type varchar, interval_precision int4, udt_catalog name, "
        "udt_schema name, udt_name name, scope_catalog name, scope_schema name, scope_name name, "
        "maximum_cardinality int4, dtd_identifier name, parameter_default varchar"
    ),
    "referential_constraints": (
        "constraint_catalog name, constraint_schema name, constraint_name name, unique_constraint_catalog "
        "name, unique_constraint_schema name, unique_constraint_name name, match_option varchar, update_rule "
        "varchar, delete_rule varchar"
    ),
    "role_table_grants": (
        "grantor name, grantee name, table_catalog name, table_schema name, table_name name, privilege_type "
        "varchar, is_grantable varchar, with_hierarchy varchar"
    ),
    "routines": (
        "specific_catalog name, specific_schema name, specific_name name, routine_catalog name, "
        "routine_schema name, routine_name name, routine_type varchar, module_catalog name, module_schema "
        "name, module_name name, udt_catalog name, udt_schema name, udt_name name, data_type varchar, "
        "character_maximum_length int4, character_octet_length int4, character_set_catalog name, "
        "character_set_schema name, character_set_name name, collation_catalog name, collation_schema name, "
        "collation_name name, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, "
        "datetime_precision int4, interval_type varchar, interval_precision int4, type_udt_catalog name, "
        "type_udt_schema name, type_udt_name name, scope_catalog name, scope_schema name, scope_name name, "
        "maximum_cardinality int4, dtd_identifier name, routine_body varchar, routine_definition varchar, "
        "external_name varchar, external_language varchar, parameter_style varchar, is_deterministic varchar, "
        "sql_data_access varchar, is_null_call varchar, sql_path varchar, schema_level_routine varchar, "
        "max_dynamic_result_sets int4, is_user_defined_cast varchar, is_implicitly_invocable varchar, "
        "security_type varchar, to_sql_specific_catalog name, to_sql_specific_schema name, "
        "to_sql_specific_name name, as_locator varchar, created timestamptz, last_altered timestamptz, "
        "new_savepoint_level varchar, is_udt_dependent varchar, result_cast_from_data_type varchar, "
        "result_cast_as_locator varchar, result_cast_char_max_length int4, result_cast_char_octet_length "
        "int4, result_cast_char_set_catalog name, result_cast_char_set_schema name, result_cast_char_set_name "
        "name, result_cast_collation_catalog name, result_cast_collation_schema name, "
        "result_cast_collation_name name, result_cast_numeric_precision int4, "
        "result_cast_numeric_precision_radix int4, result_cast_numeric_scale int4, "
        "result_cast_datetime_precision int4, result_cast_interval_type varchar, "
        "result_cast_interval_precision int4, result_cast_type_udt_catalog name, result_cast_type_udt_schema "
        "name, result_cast_type_udt_name name, result_cast_scope_catalog name, result_cast_scope_schema name, "
        "result_cast_scope_name name, result_cast_maximum_cardinality int4, result_cast_dtd_identifier name"
    ),
    "schemata": (
        "catalog_name name, schema_name name, schema_owner name, default_character_set_catalog name, "
        "default_character_set_schema name, default_character_set_name name, sql_path varchar"
    ),
    "sequences": (
        "sequence_catalog name, sequence_schema name, sequence_name name, data_type varchar, "
        "numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, start_value varchar, "
        "minimum_value varchar, maximum_value varchar, increment varchar, cycle_option varchar"
    ),
    "table_constraints": (
        "constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, "
        "table_schema name, table_name name, constraint_type varchar, is_deferrable varchar, "
        "initially_deferred varchar, enforced varchar, nulls_distinct varchar"
    ),
    "table_privileges": (
        "grantor name, grantee name, table_catalog name, table_schema name, table_name name, privilege_type "
        "varchar, is_grantable varchar, with_hierarchy varchar"
    ),
    "tables": (
        "table_catalog name, table_schema name, table_name name, table_type varchar, "
        "self_referencing_column_name name, reference_generation varchar, user_defined_type_catalog name, "
        "user_defined_type_schema name, user_defined_type_name name, is_insertable_into varchar, is_typed "
        "varchar, commit_action varchar"
    ),
    "triggers": (
        "trigger_catalog name, trigger_schema name, trigger_name name, event_manipulation varchar, "
        "event_object_catalog name, event_object_schema name, event_object_table name, action_order int4, "
        "action_condition varchar, action_statement varchar, action_orientation varchar, action_timing "
        "varchar, action_reference_old_table name, action_reference_new_table name, action_reference_old_row "
        "name, action_reference_new_row name, created timestamptz"
    ),
    "usage_privileges": (
        "grantor name, grantee name, object_catalog name, object_schema name, object_name name, object_type "
        "varchar, privilege_type varchar, is_grantable varchar"
    ),
    "views": (
        "table_catalog name, table_schema name, table_name name, view_definition varchar, check_option "
        "varchar, is_updatable varchar, is_insertable_into varchar, is_trigger_updatable varchar, "
        "is_trigger_deletable varchar, is_trigger_insertable_into varchar"
    ),
}
