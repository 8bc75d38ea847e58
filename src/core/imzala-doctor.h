/* imzala-doctor.h: a support report (`imzala-cli doctor`, the Tanılama page).
 *
 * An ImzalaDoctor holds facts about this machine: versions, the operating
 * system, pcscd and its readers (with ATRs and the token each holds), the
 * PKCS#11 modules (loaded or not, and how), the tokens and their
 * certificates, and the clock compared with a portal's. It renders them as
 * plain text with translated headings and an advice for each problem found,
 * or as JSON with stable member names.
 *
 * The facts are gathered from the program's own objects
 * (imzala_doctor_gather_async() over an ImzalaTokenList, an
 * ImzalaReaderMonitor and an ImzalaPortalClient), or filled in by hand
 * (the ImzalaDoctor*Facts structs) by a test. No secret is ever among
 * them: there is no PIN anywhere, holder names are masked ("AY*** YI***"),
 * and a T.C. kimlik no shows only its last digits, also where it hides in a
 * label (AKİS names a key "<TCKN>NES0"): the rendered text is scanned for
 * any valid T.C. kimlik no before it is returned.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-module-set.h"
#include "imzala-portal-client.h"
#include "imzala-reader-monitor.h"
#include "imzala-token-list.h"

G_BEGIN_DECLS

/* How far the local clock may be from the portal's before it is a problem. */
#define IMZALA_DOCTOR_CLOCK_TOLERANCE_MINUTES 5

typedef enum
{
  IMZALA_DOCTOR_PCSC_UNKNOWN,     /* not asked (or no answer in time) */
  IMZALA_DOCTOR_PCSC_RUNNING,
  IMZALA_DOCTOR_PCSC_NOT_RUNNING,
} ImzalaDoctorPcscState;

typedef struct
{
  char     *name;
  char     *atr;         /* nullable: no card */
  char     *state_text;  /* translated ("No card") */
  gboolean  has_card;
  char     *token_label; /* nullable: the token matched to this reader */
} ImzalaDoctorReaderFacts;

typedef struct
{
  char     *name;
  char     *path;        /* nullable */
  char     *description; /* nullable when not loaded */
  char     *manufacturer;
  char     *version;
  gboolean  unmanaged;
  char     *load_error;  /* nullable: the module did not load, and why */
} ImzalaDoctorModuleFacts;

typedef struct
{
  char      *holder;     /* unmasked; masked when rendered */
  char      *tckn;       /* nullable; unmasked; masked when rendered */
  char      *issuer;
  char      *key;        /* "RSA 2048" */
  GDateTime *not_before;
  GDateTime *not_after;
  gboolean   qualified;
  gboolean   ca;
  gboolean   has_private_key;
  gboolean   usable;     /* recommended for signing */
  GStrv      problems;   /* translated sentences: why not usable */
  gboolean   expired;
} ImzalaDoctorCertificateFacts;

typedef struct
{
  char           *label;
  char           *manufacturer;
  char           *model;
  char           *serial;
  char           *slot_description;
  char           *module;
  ImzalaPinState  pin_state;
  gboolean        pin_pad;
  guint           min_pin_length;
  guint           max_pin_length;
  GPtrArray      *certificates; /* ImzalaDoctorCertificateFacts */
} ImzalaDoctorTokenFacts;

#define IMZALA_TYPE_DOCTOR (imzala_doctor_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaDoctor, imzala_doctor, IMZALA, DOCTOR, GObject)

/* Starts with the operating system and the versions of İmzala and the
 * libraries of the core (GLib, OpenSSL, p11-kit, pcsc-lite, libsoup,
 * json-glib) filled in; no reader, module or token facts yet. */
ImzalaDoctor *imzala_doctor_new (void);

/* ---- Facts ---- */

/* Replaces or adds one version line ("GTK", "4.8.3"); the GUI adds its own. */
void imzala_doctor_set_version  (ImzalaDoctor *self, const char *component, const char *version);
void imzala_doctor_set_os       (ImzalaDoctor *self, const char *os);
/* The "now" that certificates are judged against and that heads the report
 * (default: the time of imzala_doctor_new()). */
void imzala_doctor_set_now      (ImzalaDoctor *self, GDateTime *now);

void imzala_doctor_set_pcsc     (ImzalaDoctor          *self,
                                 ImzalaDoctorPcscState  state,
                                 const char            *error_message);
/* The next four take ownership of @facts. */
void imzala_doctor_take_reader  (ImzalaDoctor *self, ImzalaDoctorReaderFacts *facts);
void imzala_doctor_take_module  (ImzalaDoctor *self, ImzalaDoctorModuleFacts *facts);
void imzala_doctor_take_token   (ImzalaDoctor *self, ImzalaDoctorTokenFacts *facts);
/* Why the modules or the tokens could not be listed at all (nullable). */
void imzala_doctor_set_modules_error (ImzalaDoctor *self, const char *message);
void imzala_doctor_set_tokens_error  (ImzalaDoctor *self, const char *message);
/* The portal's clock: @server_time as the portal gave it and @local_time
 * as this machine's clock read at the same moment; or @error_message when
 * the portal could not be asked. */
void imzala_doctor_set_portal (ImzalaDoctor *self,
                               const char   *url,
                               GDateTime    *server_time,
                               GDateTime    *local_time,
                               const char   *error_message);

/* Facts from the program's objects. */
void imzala_doctor_add_module_set (ImzalaDoctor    *self,
                                   ImzalaModuleSet *module_set);
/* @tokens: ImzalaToken; their readers are matched when the readers are
 * added, so add the tokens first. */
void imzala_doctor_add_tokens     (ImzalaDoctor    *self,
                                   GPtrArray       *tokens);
/* pcscd's state and the readers of @monitor as they are now. */
void imzala_doctor_add_readers    (ImzalaDoctor        *self,
                                   ImzalaReaderMonitor *monitor);

ImzalaDoctorReaderFacts      *imzala_doctor_reader_facts_new       (void);
void                          imzala_doctor_reader_facts_free      (ImzalaDoctorReaderFacts *facts);
ImzalaDoctorModuleFacts      *imzala_doctor_module_facts_new       (void);
void                          imzala_doctor_module_facts_free      (ImzalaDoctorModuleFacts *facts);
ImzalaDoctorTokenFacts       *imzala_doctor_token_facts_new        (void);
void                          imzala_doctor_token_facts_free       (ImzalaDoctorTokenFacts *facts);
ImzalaDoctorCertificateFacts *imzala_doctor_certificate_facts_new  (void);
void                          imzala_doctor_certificate_facts_free (ImzalaDoctorCertificateFacts *facts);
/* Facts of @certificate as of @now. */
ImzalaDoctorCertificateFacts *imzala_doctor_certificate_facts_new_for_certificate (ImzalaCertificate *certificate,
                                                                                   GDateTime         *now);

/* ---- Gathering ---- */

/* Gathers every fact it can from what it is given, all nullable:
 * @module_set (loaded, or failed: then @modules_error says why), the
 * tokens of @token_list (after one refresh of it, shared with other
 * callers), the readers of @monitor (waiting a few seconds at most for its
 * first answer when it has not answered yet), and the clock of @portal
 * (the Date of its answer to one HEAD request). Never fails but for
 * cancellation: what cannot be learned is a fact of the report. */
void     imzala_doctor_gather_async  (ImzalaDoctor        *self,
                                      ImzalaModuleSet     *module_set,
                                      const GError        *modules_error,
                                      ImzalaTokenList     *token_list,
                                      ImzalaReaderMonitor *monitor,
                                      ImzalaPortalClient  *portal,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
gboolean imzala_doctor_gather_finish (ImzalaDoctor        *self,
                                      GAsyncResult        *result,
                                      GError             **error);

/* ---- The report ---- */

/* How many problems the facts show (each has one advice in the report). */
guint  imzala_doctor_count_problems (ImzalaDoctor *self);
/* The report as plain text, translated. */
char  *imzala_doctor_render_text    (ImzalaDoctor *self);
/* The report as pretty-printed JSON (member names never translated). */
char  *imzala_doctor_render_json    (ImzalaDoctor *self);

/* "AYŞE YILMAZ" → "AY*** YI***": each word's first two characters. */
char  *imzala_doctor_mask_name      (const char *name);
/* "12345678901" → "*******8901". */
char  *imzala_doctor_mask_tckn      (const char *tckn);
/* @text with every valid T.C. kimlik no in it (11 digits not inside a
 * longer run of digits) masked. */
char  *imzala_doctor_mask_text      (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaDoctorReaderFacts, imzala_doctor_reader_facts_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaDoctorModuleFacts, imzala_doctor_module_facts_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaDoctorTokenFacts, imzala_doctor_token_facts_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaDoctorCertificateFacts, imzala_doctor_certificate_facts_free)

G_END_DECLS
