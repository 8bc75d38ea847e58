/* imzala-portal-checker.h: whether the portal accepts one signature
 * (docs/protocol.md §8, checks 3 to 7 and 9 to 11).
 *
 * One verification per signature by the core verifier
 * (imzala_verifier_verify()) with the portal's trust (its own CA and any
 * --extra-ca, offline; the certificates' status from the portal's table,
 * imzala-portal-evidence.h), then the verifier's report is mapped to the
 * protocol's answers and Turkish sentences. No main-loop state and no
 * shared mutable state: it may run in several threads at once with one
 * trust.
 */
#pragma once

#include "imzala-portal-store.h"
#include "imzala-trust.h"

G_BEGIN_DECLS

/* Clock allowance for the signer's signingTime and the time-stamps'
 * genTime on both ends of the request's life. */
#define IMZALA_PORTAL_CLOCK_SKEW 60

#define IMZALA_PORTAL_CHECK_ERROR (imzala_portal_check_error_quark ())
GQuark imzala_portal_check_error_quark (void);

typedef enum
{
  IMZALA_PORTAL_CHECK_INVALID,         /* 422 signature-invalid */
  IMZALA_PORTAL_CHECK_SIGNER_MISMATCH, /* 403 signer-mismatch */
  IMZALA_PORTAL_CHECK_REVOKED,         /* 403 certificate-revoked */
  IMZALA_PORTAL_CHECK_STATUS_UNKNOWN,  /* 422 certificate-status-unknown */
  IMZALA_PORTAL_CHECK_LEVEL,           /* 422 signature-level */
} ImzalaPortalCheckError;

/* Checks @cms (base64-decoded from the submission) for the text
 * @expected_content of a request by @tckn at @level ("BES", "T", "XL")
 * that lives from @created_at to @expires_at, at @now (all Unix time).
 * On success returns a new ImzalaPortalSignature (free with
 * imzala_portal_signature_free()); on failure sets an
 * IMZALA_PORTAL_CHECK_ERROR whose message is a Turkish sentence for the
 * wire. */
ImzalaPortalSignature *imzala_portal_check_signature (ImzalaTrust *trust,
                                                      GBytes      *cms,
                                                      GBytes      *expected_content,
                                                      const char  *tckn,
                                                      const char  *level,
                                                      gint64       created_at,
                                                      gint64       expires_at,
                                                      gint64       now,
                                                      GError     **error);

/* The protocol's error code and HTTP status for an
 * IMZALA_PORTAL_CHECK_ERROR. */
const char *imzala_portal_check_error_code (const GError *error,
                                            guint        *status);

void imzala_portal_signature_free (ImzalaPortalSignature *signature);

G_END_DECLS
