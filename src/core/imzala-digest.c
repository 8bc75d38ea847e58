#define G_LOG_DOMAIN "imzala-cms"

#include "config.h"

#include "imzala-digest.h"

ImzalaDigest
imzala_digest_for_certificate (ImzalaCertificate *certificate)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (certificate), IMZALA_DIGEST_SHA256);

  /* A P-384 key is only as strong as its hash: pair it with SHA-384, as the
   * ETSI and Turkish profiles do. Everything else uses SHA-256. */
  if (imzala_certificate_get_key_type (certificate) == IMZALA_KEY_TYPE_EC_P384)
    return IMZALA_DIGEST_SHA384;
  return IMZALA_DIGEST_SHA256;
}

const EVP_MD *
imzala_digest_get_md (ImzalaDigest digest)
{
  return digest == IMZALA_DIGEST_SHA384 ? EVP_sha384 () : EVP_sha256 ();
}
