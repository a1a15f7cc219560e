/* schema.sql, compiled in (the Makefile generates the definition). */
#ifndef CASEFILE_COMMON_SCHEMA_H
#define CASEFILE_COMMON_SCHEMA_H

extern const char casefile_schema_sql[];

#endif
