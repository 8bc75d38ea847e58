/* imzala-portal-security-word.h: the güvenlik sözcüğü, stored only as a
 * salted PBKDF2-HMAC-SHA256 hash ("pbkdf2-sha256$<iterations>$<salt>$<hash>",
 * base64). Words are NFC-normalised and trimmed before hashing. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define IMZALA_PORTAL_SECURITY_WORD_ITERATIONS 100000

char    *imzala_portal_security_word_hash   (const char *word);
/* Constant-time comparison of the derived keys. */
gboolean imzala_portal_security_word_verify (const char *word, const char *stored);

G_END_DECLS
