/*
 * The rule of hosted Supabase's pg-safeupdate, for local test servers only:
 * an UPDATE or DELETE without a WHERE clause fails with SQLSTATE 21000 before
 * any privilege or row-level security check. Hosted Supabase preloads it for
 * PostgREST's login role; the test harness loads this build into every
 * session of the PostgreSQL 15 test server, so that the fixtures and the
 * threat suite prove they hold with it on.
 *
 * `safeupdate.enabled` (default on) turns it off for a session, as hosted
 * does for `postgres`.
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static bool where_required = true;
static post_parse_analyze_hook_type previous_hook = NULL;

static void
require_where(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (previous_hook)
		previous_hook(pstate, query, jstate);

	if (!where_required)
		return;
	if (query->commandType != CMD_UPDATE && query->commandType != CMD_DELETE)
		return;
	if (query->jointree != NULL && query->jointree->quals != NULL)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_CARDINALITY_VIOLATION),
			 errmsg("%s requires a WHERE clause",
					query->commandType == CMD_UPDATE ? "UPDATE" : "DELETE")));
}

void
_PG_init(void)
{
	DefineCustomBoolVariable("safeupdate.enabled",
							 "Refuse UPDATE and DELETE statements without a WHERE clause.",
							 NULL,
							 &where_required,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("safeupdate");

	previous_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = require_where;
}
