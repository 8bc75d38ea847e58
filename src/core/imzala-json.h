/* imzala-json.h: the one way İmzala reads JSON from the network.
 *
 * Both the portal (request bodies) and the client (the portal's answers)
 * parse JSON only through imzala_json_parse(). json-glib's parser recurses
 * once per nesting level, so 100 000 nested arrays overflow the stack of
 * whoever parses them; the size and the nesting depth are therefore checked
 * over the raw bytes, by a linear scan that knows strings and escapes,
 * before json-glib sees a single byte.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "imzala-secret.h"

G_BEGIN_DECLS

/* The nesting depth protocol v1 needs is 3; 64 leaves room and is far
 * below what any stack holds. */
#define IMZALA_JSON_MAX_DEPTH 64

/* Whether a Content-Type (its media type and parameters, as
 * soup_message_headers_get_content_type() gives them) is JSON as the
 * protocol sends it: "application/json", with no charset or "utf-8", and no
 * other parameter. */
gboolean  imzala_json_is_media_type     (const char *media_type,
                                         GHashTable *params);

/* The depth of the deepest array or object in @data (0 for a scalar), or
 * G_MAXUINT when it exceeds @max_depth (the scan stops there). Strings and
 * their escapes are skipped, so a "[" inside a string does not count. */
guint     imzala_json_scan_depth        (const guint8 *data,
                                         gsize         length,
                                         guint         max_depth);

/* Parses @data as one JSON document and returns its root node (owned).
 * Refused with IMZALA_ERROR_TOO_LARGE: more than @max_size bytes; with
 * IMZALA_ERROR_PROTOCOL: empty, not UTF-8, nested deeper than @max_depth,
 * or not JSON. Nothing is parsed when a limit is exceeded. */
JsonNode *imzala_json_parse             (const guint8  *data,
                                         gsize          length,
                                         gsize          max_size,
                                         guint          max_depth,
                                         GError       **error);

/* Takes the string member @name of the top-level object in @data (which
 * the caller owns and will wipe) into a secret, and overwrites the string's
 * characters in @data with '*' so that the document stays valid JSON but no
 * longer holds the secret when json-glib parses it. Escapes are refused (a
 * PUK has none), so the secret is never decoded into another buffer.
 * Returns NULL with IMZALA_ERROR_PROTOCOL when the member is missing, not a
 * string, empty, longer than IMZALA_SECRET_MAX_LENGTH, or present twice.
 * Call it after imzala_json_scan_depth() accepted @data. */
ImzalaSecret *imzala_json_take_secret   (guint8      *data,
                                         gsize        length,
                                         const char  *name,
                                         GError     **error);

G_END_DECLS
