/* imzala-digest.h: the hash İmzala signs with, and which one a key gets.
 *
 * Shared by the CMS builder and verifier (pure OpenSSL) and the token's
 * signing path, so that neither has to include the other.
 */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

#include "imzala-certificate.h"

G_BEGIN_DECLS

typedef enum
{
  IMZALA_DIGEST_SHA256,
  IMZALA_DIGEST_SHA384,
} ImzalaDigest;

/* The digest İmzala uses for a key: SHA-384 for EC P-384, SHA-256 else. */
ImzalaDigest  imzala_digest_for_certificate (ImzalaCertificate *certificate);
/* OpenSSL's EVP_MD for @digest (a static object, not to be freed). */
const EVP_MD *imzala_digest_get_md          (ImzalaDigest       digest);

G_END_DECLS
