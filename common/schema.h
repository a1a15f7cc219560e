/* schema.sql, compiled in (the Makefile generates the definition). */
#ifndef CASEFILE_COMMON_SCHEMA_H
#define CASEFILE_COMMON_SCHEMA_H

extern const char casefile_schema_sql[];

/* A capture's SQLite application_id, "CASE", as schema.sql sets it. */
#define CAPTURE_APPLICATION_ID 0x43415345

#endif
