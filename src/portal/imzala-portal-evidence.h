/* imzala-portal-evidence.h: the portal as the status authority of its own
 * CA (docs/protocol.md §8.9, §8.11).
 *
 * The acceptance check (imzala-portal-checker.c) runs the core verifier
 * with the portal's ImzalaTrust, offline. This file makes that trust ask
 * the portal's certificate table (the one its OCSP responder and CRL are
 * made from) before anything a signature
 * carries: a certificate its issuing CA issued is good or revoked as the
 * table says, any other certificate's status is unknown (the portal
 * fetches nothing). When the table says good, the OCSP responses and CRLs
 * the signature carries are checked too, and the answer rests on the one
 * that shows the certificate good: that is how the checker sees that an
 * X-L signature carries its own status proof.
 */
#pragma once

#include "imzala-portal-pki.h"
#include "imzala-trust.h"

G_BEGIN_DECLS

/* A new offline trust holding the certificates of @anchors (the portal's
 * root, issuing CA and --extra-ca certificates), whose status function
 * asks @pki (imzala_portal_evidence_set_pki()). */
ImzalaTrust *imzala_portal_evidence_new_trust (X509_STORE      *anchors);

/* The PKI whose issuing CA's certificates @store's table answers for;
 * NULL (no PKI): every status is unknown. Call before the trust is used
 * from other threads. */
void         imzala_portal_evidence_set_pki   (ImzalaTrust       *trust,
                                               ImzalaPortalPki   *pki,
                                               ImzalaPortalStore *store);

G_END_DECLS
