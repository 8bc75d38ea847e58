/* imzala-portal-evidence.h: what the portal checks beyond a valid
 * CAdES-BES (docs/protocol.md §8, checks 9 to 11): the signer
 * certificate's status, and the time-stamp and long-term values of the
 * level (T, XL) the request asked for. Runs after
 * imzala_portal_check_signature() accepted the signature.
 */
#pragma once

#include <openssl/x509.h>

#include "imzala-portal-pki.h"

G_BEGIN_DECLS

#define IMZALA_PORTAL_EVIDENCE_ERROR (imzala_portal_evidence_error_quark ())
GQuark imzala_portal_evidence_error_quark (void);

typedef enum
{
  IMZALA_PORTAL_EVIDENCE_REVOKED,        /* 403 certificate-revoked */
  IMZALA_PORTAL_EVIDENCE_STATUS_UNKNOWN, /* 422 certificate-status-unknown */
  IMZALA_PORTAL_EVIDENCE_LEVEL,          /* 422 signature-level */
} ImzalaPortalEvidenceError;

/* Checks @cms (one SignerInfo, already verified) for @level ("BES", "T",
 * "XL"): the signer's status from @pki (NULL: status unknown), and for T
 * and XL the signature-time-stamps against @trust, their genTime within
 * [@created_at - 60 s, @now + 60 s]; for XL the certificate and revocation
 * values. On failure the GError's message is a Turkish sentence for the
 * wire. */
gboolean    imzala_portal_check_evidence       (ImzalaPortalPki *pki,
                                                X509_STORE      *trust,
                                                GBytes          *cms,
                                                const char      *level,
                                                gint64           created_at,
                                                gint64           now,
                                                GError         **error);

/* The protocol's error code and HTTP status for an
 * IMZALA_PORTAL_EVIDENCE_ERROR. */
const char *imzala_portal_evidence_error_code  (const GError *error,
                                                guint        *status);

G_END_DECLS
