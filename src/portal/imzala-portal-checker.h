/* imzala-portal-checker.h: what the portal checks before it accepts one
 * signature (docs/protocol.md §8, checks 3 to 7), on top of the core
 * verifier imzala_cms_verify(). */
#pragma once

#include <openssl/x509.h>

#include "imzala-portal-store.h"

G_BEGIN_DECLS

/* Clock allowance for the signer's signingTime on both ends of the
 * request's life. */
#define IMZALA_PORTAL_CLOCK_SKEW 60

/* On success returns a new ImzalaPortalSignature (free with
 * imzala_portal_signature_free()). On failure sets IMZALA_ERROR_SIGNER_MISMATCH
 * (the signer is not @tckn) or IMZALA_ERROR_PORTAL_REJECTED (anything else),
 * with a Turkish message for the wire. */
ImzalaPortalSignature *imzala_portal_check_signature (X509_STORE *trust,
                                                      GBytes     *cms,
                                                      GBytes     *expected_content,
                                                      const char *tckn,
                                                      gint64      created_at,
                                                      gint64      expires_at,
                                                      GError    **error);

void imzala_portal_signature_free (ImzalaPortalSignature *signature);

G_END_DECLS
