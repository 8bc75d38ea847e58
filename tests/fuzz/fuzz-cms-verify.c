/* fuzz-cms-verify.c: libFuzzer harness for imzala_cms_verify(), the
 * verifier of the signatures the client makes and the portal accepts.
 *
 * The portal runs it on whatever a client posts, so it must refuse anything
 * with an IMZALA_ERROR and never crash. Each input is verified twice: as an
 * attached CAdES-BES SignedData, and as a detached one over a fixed content
 * with the plain-CMS flag. The trust anchors are the PEM file named by
 * IMZALA_FUZZ_TRUST (the CA of tests/fuzz/make-corpus.py, so that seeds
 * signed by it reach the checks after the chain), else none.
 */
#define G_LOG_DOMAIN "fuzz-cms-verify"

#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "imzala-cms.h"
#include "imzala-error.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static X509_STORE *trust;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *path = g_getenv ("IMZALA_FUZZ_TRUST");
  g_autoptr(GError) error = NULL;

  if (path != NULL && *path != '\0')
    trust = imzala_cms_load_trust_file (path, &error);
  if (trust == NULL)
    {
      if (error != NULL)
        g_printerr ("fuzz-cms-verify: %s; no trust anchors\n", error->message);
      trust = X509_STORE_new ();
    }
  return 0;
}

static void
verify (GBytes *cms, GBytes *detached, ImzalaVerifyFlags flags)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = imzala_cms_verify (cms, detached, trust, flags, &error);

  if (result == NULL)
    {
      g_assert (error != NULL && error->domain == IMZALA_ERROR);
      return;
    }
  g_assert (result->signer != NULL);
  g_assert (result->content != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char content[] = "İmzalanacak metin\n\nİşlem: portal.example.org / ABCD-EFGH-JKMN";
  g_autoptr(GBytes) cms = g_bytes_new (data, size);
  g_autoptr(GBytes) detached = g_bytes_new_static (content, sizeof content - 1);

  verify (cms, NULL, IMZALA_VERIFY_NONE);
  verify (cms, detached, IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT);
  return 0;
}
