/* imzala-test-portal.h: the real reference portal (the imzala-portal binary)
 * for GUI tests and tools/screenshots.
 *
 * imzala_test_portal_new() makes a temporary folder, enrols the demo person
 * AYŞE YILMAZ with a SoftHSM demo card there (`imzala-portal enrol`), points
 * SOFTHSM2_CONF at that card and starts `imzala-portal` on 127.0.0.1 with a
 * free port. Requests are made through the portal's browser API with a
 * libsoup session that keeps the session cookie, as a browser does; what the
 * portal recorded is read from its SQLite database.
 *
 * The binary is $IMZALA_PORTAL (set by tests/meson.build).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMZALA_TEST_PORTAL_TCKN          "12345678950"
#define IMZALA_TEST_PORTAL_NAME          "AYŞE YILMAZ"
#define IMZALA_TEST_PORTAL_SECURITY_WORD "kelebek"
#define IMZALA_TEST_PORTAL_PIN           "123456"
#define IMZALA_TEST_PORTAL_PUK           "87654321"

typedef struct _ImzalaTestPortal ImzalaTestPortal;

struct _ImzalaTestPortal
{
  char        *dir;          /* the temporary folder, removed by free() */
  char        *url;          /* https://localhost:PORT */
  char        *host;         /* localhost:PORT */
  char        *ca_file;      /* the portal's root CA (PEM) */
  char        *card_conf;    /* the demo card's softhsm2.conf */
  char        *db_path;
  GSubprocess *process;
  GDataInputStream *output;
  gpointer     session;      /* SoupSession, the "browser" */
  char        *login_id;     /* request id of the last login, or NULL */
};

/* @code_lifetime: seconds a code lives (0: the portal's default). */
ImzalaTestPortal *imzala_test_portal_new            (guint             code_lifetime,
                                                     GError          **error);
void              imzala_test_portal_free           (ImzalaTestPortal *self);

/* Makes a request the way the portal's pages do: "login" (E-imzalı Giriş
 * for the demo person), "consent" (E-Onay, KABUL EDİYORUM; only after a
 * login of this session was signed) or "unblock" (Kilit Çözme with the
 * security word).
 * Returns the display code ("ABCD-EFGH-JKMN"). */
char             *imzala_test_portal_create_request (ImzalaTestPortal *self,
                                                     const char       *purpose,
                                                     GError          **error);

/* A certificate application (Başvuru Formu and Sertifika Sahibi
 * Taahhütnamesi, two texts) of the demo person, made through the portal's
 * browser API as its pages make it, to be signed with the card (Yöntem 2).
 * Returns the display code. */
char             *imzala_test_portal_create_application_request (ImzalaTestPortal *self,
                                                                 GError          **error);

/* From the portal's database, by display or canonical code: the request's
 * state ("pending", "done", ...), the number of stored signatures, and the
 * exact bytes of text @index (NUL-terminated). */
char             *imzala_test_portal_get_state      (ImzalaTestPortal *self,
                                                     const char       *code);
guint             imzala_test_portal_count_signatures (ImzalaTestPortal *self,
                                                     const char       *code);
/* How many audit events of @kind ("request-fetched", "signed", ...) the
 * portal wrote for the request. */
guint             imzala_test_portal_count_events   (ImzalaTestPortal *self,
                                                     const char       *code,
                                                     const char       *kind);
/* The demo person's e-onay: "accepted", "rejected" or NULL (none yet). */
char             *imzala_test_portal_get_eonay      (ImzalaTestPortal *self);
char             *imzala_test_portal_get_text       (ImzalaTestPortal *self,
                                                     const char       *code,
                                                     guint             index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaTestPortal, imzala_test_portal_free)

G_END_DECLS
