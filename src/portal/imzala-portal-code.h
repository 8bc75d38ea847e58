/* imzala-portal-code.h: doğrulama kodları and other random identifiers
 * (docs/protocol.md §3). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define IMZALA_PORTAL_CODE_CHARS 12

/* 12 characters of Crockford base32 from 60 random bits (RAND_bytes). */
char    *imzala_portal_code_generate       (void);
/* TRUE for exactly 12 characters of the alphabet (the canonical form). */
gboolean imzala_portal_code_is_canonical   (const char *code);
/* "ABCDEFGHJKMN" → "ABCD-EFGH-JKMN". */
char    *imzala_portal_code_format         (const char *code);
/* @n_bytes random bytes as lower-case hex (session cookies, public ids). */
char    *imzala_portal_random_hex          (gsize n_bytes);
GBytes  *imzala_portal_random_bytes        (gsize n_bytes);

G_END_DECLS
