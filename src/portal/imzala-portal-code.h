/* imzala-portal-code.h: doğrulama kodları and other random identifiers
 * (docs/protocol.md §3).
 *
 * The alphabet, the length and the display form ("ABCD-EFGH-JKMN",
 * imzala_portal_format_code()) are the client's, in src/core/imzala-portal.h:
 * one definition for both sides of the protocol. */
#pragma once

#include <glib.h>

#include "imzala-portal.h"

G_BEGIN_DECLS

/* 12 characters of Crockford base32 from 60 random bits (RAND_bytes). */
char    *imzala_portal_code_generate       (void);
/* TRUE for exactly 12 characters of the alphabet (the canonical form). */
gboolean imzala_portal_code_is_canonical   (const char *code);
/* @n_bytes random bytes as lower-case hex (session cookies, public ids). */
char    *imzala_portal_random_hex          (gsize n_bytes);
GBytes  *imzala_portal_random_bytes        (gsize n_bytes);

G_END_DECLS
