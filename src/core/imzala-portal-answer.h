/* imzala-portal-answer.h: the portal's protocol v1 answers, read from bytes.
 *
 * ImzalaPortalClient moves bytes over HTTPS; these functions decide what the
 * bytes mean (docs/protocol.md). They are pure: no network, no SoupMessage,
 * no state, so that every check can be tested with a byte string
 * (tests/test-request.c) and fuzzed. Whatever they refuse is refused with
 * IMZALA_ERROR_PROTOCOL and a sentence for the user; the reason goes to
 * g_debug() only.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-request.h"
#include "imzala-secret.h"

G_BEGIN_DECLS

/* The "version" of every body sent and every answer accepted. */
#define IMZALA_PORTAL_PROTOCOL_VERSION 1

/* The answer to GET /api/v1/requests/<code>. @portal_host is the host[:port]
 * İmzala connected to and verified by TLS, in lower case: the request must
 * name it as its "portal" and every text must end with the reference line
 * built from it. @code is the normalised code that was asked for.
 * @date_header is the portal's clock from the answer's Date header, used when
 * the answer has no "server_time"; NULL then trusts the local clock. */
ImzalaRequest *imzala_portal_answer_parse_request (GBytes      *json,
                                                   const char  *portal_host,
                                                   const char  *code,
                                                   GDateTime   *date_header,
                                                   GError     **error);

/* The answer to a POST that reports success ("accepted", "recorded"): its
 * "status" must be @expected. Returns the portal's message for the user, or
 * @fallback_message when it sent none that can be shown. */
char          *imzala_portal_answer_parse_status  (GBytes      *json,
                                                   const char  *expected,
                                                   const char  *fallback_message,
                                                   GError     **error);

/* The answer to POST .../unblock: the PUK, in a secret buffer. It is taken
 * from @json (the caller's buffer, which the caller wipes afterwards) by a
 * small scanner and overwritten there before json-glib parses the rest, so
 * no library buffer ever holds it (imzala_json_take_secret()). */
ImzalaSecret  *imzala_portal_answer_take_puk      (guint8      *json,
                                                   gsize        length,
                                                   GError     **error);
/* The same over a copy of @json (for tests); the caller wipes @json. */
ImzalaSecret  *imzala_portal_answer_parse_puk     (GBytes      *json,
                                                   GError     **error);

/* The error an answer with HTTP @status other than 200 stands for
 * (docs/protocol.md, "Errors"). @json is the body when it was sent as
 * application/json, NULL otherwise. The portal's own sentence is kept when it
 * is one that can be shown. */
GError        *imzala_portal_answer_parse_error   (guint        status,
                                                   GBytes      *json);

G_END_DECLS
