/* fuzz-verifier.c: libFuzzer harness for imzala_verifier_verify(), the
 * validating verifier that imzala-cli verify, the window and the portal's
 * acceptance check (imzala_portal_check_signature()) run.
 *
 * The portal runs it on whatever a client posts, so every input must come
 * out as a report or an IMZALA_ERROR, never a crash or a leak. Each input
 * is verified twice, offline (no fetch ever leaves the harness): as it is,
 * and against a fixed detached content. The trust is the PEM file named
 * by IMZALA_FUZZ_TRUST (the CA of tests/fuzz/make-corpus.py, so that
 * seeds signed by it reach the chain and status checks), else empty.
 */
#define G_LOG_DOMAIN "fuzz-verifier"

#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "imzala-error.h"
#include "imzala-verifier.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ImzalaTrust *trust;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *path = g_getenv ("IMZALA_FUZZ_TRUST");
  g_autoptr(GError) error = NULL;

  trust = imzala_trust_new ();
  imzala_trust_set_offline (trust, TRUE);
  if (path != NULL && *path != '\0' && !imzala_trust_add_path (trust, path, &error))
    g_printerr ("fuzz-verifier: %s; no trust anchors\n", error->message);
  return 0;
}

static void
verify (GBytes *cms, GBytes *detached)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerification) result = imzala_verifier_verify (cms, detached, trust, NULL, &error);

  if (result == NULL)
    {
      g_assert (error != NULL && error->domain == IMZALA_ERROR);
      return;
    }
  g_assert (result->signers != NULL && result->signers->len > 0);
  g_assert (result->reason != NULL);
  g_assert (result->content != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char content[] = "İmzalanacak metin\n\nİşlem: portal.example.org / ABCD-EFGH-JKMN";
  g_autoptr(GBytes) cms = g_bytes_new (data, size);
  g_autoptr(GBytes) detached = g_bytes_new_static (content, sizeof content - 1);

  verify (cms, NULL);
  verify (cms, detached);
  return 0;
}
