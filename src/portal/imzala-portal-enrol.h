/* imzala-portal-enrol.h: registers a demo person and makes their SoftHSM
 * demo card.
 *
 * The card is a SoftHSM token in <card dir>/tokens with <card dir>/softhsm2.conf:
 * a key pair and an NES-profile certificate issued by the portal's CA, plus
 * the issuing CA certificate. Its user PIN and PUK (SO PIN) are the fixed
 * demo values below: this is a demonstration, never a real card.
 */
#pragma once

#include "imzala-portal-ca.h"
#include "imzala-portal-store.h"

G_BEGIN_DECLS

#define IMZALA_PORTAL_DEMO_USER_PIN "123456"
#define IMZALA_PORTAL_DEMO_PUK      "87654321"

typedef struct
{
  const char *tckn;
  const char *name;
  const char *security_word;
  const char *institution;
  const char *sicil_no;
  const char *card_dir;
  const char *key_type;      /* "rsa2048" (default), "p256", "p384" */
  guint       valid_days;    /* certificate validity, default 730 */
  const char *phone;         /* mobile number for the unblock code; NULL:
                              * IMZALA_PORTAL_DEMO_PHONE */
} ImzalaPortalEnrolment;

/* The registered phone of a demo person enrolled without --phone. */
#define IMZALA_PORTAL_DEMO_PHONE "05320000000"

/* "05XXXXXXXXX" from a Turkish mobile number written with spaces,
 * brackets, dashes, a leading 0 or +90; NULL when it is not one. */
char *imzala_portal_normalise_mobile (const char *text);

/* On success returns the card's token serial. */
char *imzala_portal_enrol (ImzalaPortalCa              *ca,
                           ImzalaPortalStore           *store,
                           const ImzalaPortalEnrolment *enrolment,
                           GError                     **error);

G_END_DECLS
