/* imzala-fault-pkcs11.c: a PKCS#11 module for tests that wraps SoftHSM and
 * behaves like the cards and vendor modules SoftHSM cannot imitate.
 *
 * IMZALA_FAULTS (read at C_Initialize) is a comma-separated list of:
 *   init-args-bad    C_Initialize with arguments answers CKR_ARGUMENTS_BAD,
 *                    like some libakisp11 builds (only NULL is accepted)
 *   rsa-pkcs-only    no CKM_SHA*_RSA_PKCS: RSA signing must use CKM_RSA_PKCS
 *   pin-counter      three wrong PINs block the PIN, with CKF_USER_PIN_COUNT_LOW
 *                    after the first and CKF_USER_PIN_FINAL_TRY after the second
 *   pin-pad          CKF_PROTECTED_AUTHENTICATION_PATH; C_Login with a NULL PIN
 *                    uses IMZALA_FAULT_PIN as if typed on the reader
 *   no-so-login      C_Login(CKU_SO) is CKR_USER_TYPE_INVALID; an unlogged
 *                    C_SetPIN(puk, new) unblocks instead
 *   removed-on-sign  C_Sign answers CKR_DEVICE_REMOVED, as if the card was
 *                    pulled out after the PIN was entered
 *   slow-card        C_Sign and C_SetPIN take IMZALA_FAULT_DELAY_MS
 *                    milliseconds (default 3000) before they answer, like a
 *                    slow card, so that a test can act while the card works;
 *                    each appends "working" as a line to
 *                    IMZALA_FAULT_CARD_LOG, when set, as it starts
 *   pin-expired      C_Login as the user answers CKR_PIN_EXPIRED, like a
 *                    card that wants its transport PIN changed first
 *   pin-not-initialized  C_Login as the user answers
 *                    CKR_USER_PIN_NOT_INITIALIZED, like a card that was
 *                    never given a user PIN
 *   slots-reversed   C_GetSlotList lists the slots in the reverse order: a
 *                    test runs with and without it to have a card both
 *                    first and last, whatever order SoftHSM gives them
 * Modules that lie about lengths (for the checks on what a module says):
 *   huge-attribute   the size of a certificate's CKA_VALUE is 2^40 bytes
 *   attribute-grows  a filled-in CKA_LABEL claims 2^28 bytes more than the
 *                    buffer it was given
 *   slot-list-grows  a filled-in slot list claims 2^28 slots more
 *   huge-mechanism-list  C_GetMechanismList claims 2^32 - 1 mechanisms
 *   signature-grows  C_Sign claims a signature 2^28 bytes longer than the
 *                    buffer it was given
 * IMZALA_FAULT_TARGET names the wrapped module (default: SoftHSM).
 *
 * Pairing, size queries and signature forms of real cards (their functions
 * wrap the ones above, see quirk_wrap()):
 *   no-shared-id     key objects (private and public) show their CKA_ID with
 *                    a byte 0xEE appended, so no certificate shares a CKA_ID
 *                    with its key: pairing must compare public keys
 *   ids-by-label     no object has a CKA_ID (it is empty), and key objects
 *                    show neither CKA_MODULUS nor CKA_EC_POINT
 *                    (CKR_ATTRIBUTE_TYPE_INVALID): only the label is left
 *   two-keys-one-id  the fixture's encryption key pair (CKA_ID a3) shows the
 *                    signing key's CKA_ID a1, and a search by that CKA_ID
 *                    finds the encryption key first
 *   der-ecdsa        C_Sign with CKM_ECDSA returns a DER ECDSA-Sig-Value
 *                    instead of r||s
 *   attr-size-too-small  C_GetAttributeValue size queries (a NULL pValue)
 *                    answer CKR_BUFFER_TOO_SMALL, with the lengths filled in
 *   attr-short-by-one    the first size query of each attribute of an
 *                    object gives a length one byte short
 *   slot-list-too-small-once  the first C_GetSlotList with an array answers
 *                    CKR_BUFFER_TOO_SMALL with one slot more, as if a reader
 *                    had appeared between the two calls
 *   present-slot-list-empty   C_GetSlotList (tokenPresent = TRUE) answers an
 *                    empty list, like some AKİS versions
 *   sign-needs-size-query     C_Sign with a buffer answers
 *                    CKR_BUFFER_TOO_SMALL unless the size was asked first
 *   bad-signature    C_Sign returns the signature with its last byte
 *                    changed, like a card that signed with another key or
 *                    garbled the answer
 *
 * State is process-wide, not per token: tests use one token at a time.
 *
 * A card pulled out, and a card that remembers its wrong PINs (issue 8):
 *   remove-at=N      (or IMZALA_FAULT_REMOVE_AT=N) the N-th call into the
 *                    module, counted from C_Initialize (1) over every C_*
 *                    function, and every call after it behave as if the
 *                    card was pulled out: CKR_DEVICE_REMOVED, or
 *                    CKR_TOKEN_NOT_PRESENT for C_GetTokenInfo and
 *                    C_OpenSession, and slot information without
 *                    CKF_TOKEN_PRESENT. C_Initialize, C_Finalize,
 *                    C_GetInfo, C_GetSlotList and C_WaitForSlotEvent need no
 *                    card and answer as before (the slot list as it was just
 *                    before the card went); C_CloseSession, C_Logout,
 *                    C_CloseAllSessions and C_FindObjectsFinal still end
 *                    what they end in SoftHSM, and answer CKR_DEVICE_REMOVED.
 *   pin-counter-file pin-counter, with the count of wrong PINs kept in the
 *                    file IMZALA_FAULT_PIN_COUNTER_FILE, so that it lasts
 *                    from one process to the next like a real card's
 * IMZALA_FAULT_CALL_LOG=path appends one line per call ("N C_Name") to
 * path, so that a test can count the calls of a run and name the N-th.
 * Words for the calling side (tests of imzala-module.c's thread and of the
 * certificate cache), applied around every function, whatever the others do:
 *   thread-affine    like single-threaded vendor middleware: the thread that
 *                    called C_Initialize is the only one allowed; a call from
 *                    any other thread answers CKR_GENERAL_ERROR, is written
 *                    to stderr and counted (imzala_fault_thread_violations(),
 *                    and "thread-violations N" in the count file)
 *   count-calls      counts the calls of every C_* function and writes them
 *                    at C_Finalize to the file named by IMZALA_FAULT_COUNT_FILE,
 *                    one "C_Name N" per line (functions never called are left
 *                    out), so that a test can bound the calls of a command;
 *                    also "threads-max N": the most threads the process had
 *                    during any call after C_Initialize (/proc/self/task)
 *   vendor-library   C_GetInfo's libraryDescription is what
 *                    imzala_vendor_library_name() answers, a function of the
 *                    module's own library (tests/imzala-vendor-library.c)
 *                    that the test program defines too: "vendor library"
 *                    when the module's symbols are bound to its own
 *                    libraries first, the program's answer when not
 *   slow-init        C_Initialize takes IMZALA_FAULT_DELAY_MS milliseconds
 *                    (default 3000), like OpenSC with a card it does not
 *                    know, so that a test can check nobody waits for it
 * Certificates behind a login (issue 8, item 2):
 *   certs-after-login  CKF_LOGIN_REQUIRED is set, and certificate and key
 *                    objects (private and public) are invisible to
 *                    C_FindObjects until the token is logged in as the user
 *                    (the session's state, C_GetSessionInfo, says
 *                    CKS_R*_USER_FUNCTIONS), like cards that show nothing
 *                    before the PIN; with IMZALA_FAULT_HIDING_TOKEN set, only
 *                    the token with that label does so, and the others show
 *                    their certificates as usual
 *   With count-calls, the count file also has "login-user N" and
 *   "login-context-specific N": the C_Login calls by user type, so that a
 *   test can tell the one login of a request from the per-signature logins
 *   of a CKA_ALWAYS_AUTHENTICATE key.
 * PIN care (issue 8, item 6), around all of the above:
 *   pin-range        C_GetTokenInfo states the PIN length range
 *                    IMZALA_FAULT_PIN_RANGE ("MIN-MAX", default "6-8"; also
 *                    absurd ones such as "0-0" or "9-3"), like an NES card
 *   pin-pad (more)   C_Login(CKU_SO) with a NULL PIN uses IMZALA_FAULT_PUK,
 *                    C_SetPIN with NULL PINs IMZALA_FAULT_PIN and
 *                    IMZALA_FAULT_NEW_PIN, C_InitPIN with a NULL PIN
 *                    IMZALA_FAULT_NEW_PIN, as if typed on the reader
 *   pin-pad-wait     pin-pad, and C_Login with a NULL PIN waits for the
 *                    reader: until C_CancelFunction or C_CloseSession of that
 *                    session, C_CloseAllSessions, C_Finalize (from any
 *                    thread), or until IMZALA_FAULT_DELAY_MS (default 3000)
 *                    pass, the reader giving up; then it answers
 *                    CKR_FUNCTION_CANCELED. Each wait appends "cut" or
 *                    "timeout" as a line to IMZALA_FAULT_PIN_PAD_LOG. A
 *                    session closed before its C_Login began does not wait:
 *                    as a real module, it answers CKR_SESSION_HANDLE_INVALID
 *                    at once (logged "cut": the cancel came first); with
 *                    IMZALA_FAULT_PIN_PAD_LATE_MS, C_Login begins that late,
 *                    as with a module busy elsewhere, so that a test can have
 *                    the close come first every time. Only
 *                    the first IMZALA_FAULT_PIN_PAD_WAITS (default 1) logins
 *                    wait; later ones find the PIN typed at once.
 *   always-authenticate  every private key shows CKA_ALWAYS_AUTHENTICATE
 *                    TRUE, and C_Login(CKU_CONTEXT_SPECIFIC) is accepted
 *                    with the user's PIN (or NULL on a pin pad), like the
 *                    qualified key of an NES card; SoftHSM's own keys do not
 *                    ask for it
 * A slow card listing (issue 8, item 5), around all of the above:
 *   slow-slot-list   every C_GetSlotList takes IMZALA_FAULT_DELAY_MS
 *                    milliseconds (default 3000) before it answers, like
 *                    OpenSC asking every driver about a card it does not
 *                    know, so that a test can check that the window shows
 *                    the request meanwhile
 * Unblock (issue 11, item 3), around all of the above:
 *   pin-locked       pin-counter, with the user PIN locked from
 *                    C_Initialize on (as after three wrong PINs), until
 *                    C_InitPIN sets a new one: a card to unblock
 *   puk-final-try    C_GetTokenInfo adds CKF_SO_PIN_COUNT_LOW and
 *                    CKF_SO_PIN_FINAL_TRY: one PUK try is left
 * Fuzzing the attribute readers (issue 11, tests/fuzz/fuzz-pkcs11-attributes.c),
 * outside all of the above and needing no token:
 *   imzala_fault_fuzz_attributes(script, size), exported, makes every
 *   C_GetAttributeValue answer from @script instead of the wrapped module,
 *   as a module that lies about everything but its own buffers would: per
 *   call one byte chooses the CK_RV, then per attribute one byte chooses
 *   "unavailable", a true length (two bytes, then the value when there is
 *   a buffer that fits), an absurd length, or a value that claims more than
 *   it wrote. Once the script is used up every call answers
 *   CKR_DEVICE_REMOVED. A NULL @script ends it.
 * PUK tries (issue 9's follow-up), around all of the above:
 *   puk-count-low    C_GetTokenInfo adds CKF_SO_PIN_COUNT_LOW alone: a
 *                    wrong PUK was entered, more than one try is left
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <stdio.h>
#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST *real;
static CK_FUNCTION_LIST wrapper;

static struct
{
  int init_args_bad;
  int rsa_pkcs_only;
  int pin_counter;
  int pin_pad;
  int no_so_login;
  int removed_on_sign;
  int huge_attribute;
  int attribute_grows;
  int slot_list_grows;
  int slots_reversed;
  int signature_grows;
  int slow_card;
  int huge_mechanism_list;
  int pin_expired;
  int pin_not_initialized;
  int no_shared_id;
  int ids_by_label;
  int two_keys_one_id;
  int der_ecdsa;
  int attr_size_too_small;
  int attr_short_by_one;
  int slot_list_too_small_once;
  int present_slot_list_empty;
  int sign_needs_size_query;
  int bad_signature;
  int thread_affine;
  int count_calls;
  int vendor_library;
  int pin_range;
  int pin_pad_wait;
  int always_authenticate;
  int slow_slot_list;
  int pin_locked;
  int puk_final_try;
  int puk_count_low;
} faults;

static int wrong_pins;
static int user_logged_in;

/* IMZALA_FAULT_DELAY_MS, 3000 when it is not set. */
static long
fault_delay_ms (void)
{
  const char *delay = getenv ("IMZALA_FAULT_DELAY_MS");

  return delay != NULL ? strtol (delay, NULL, 10) : 3000;
}

/* Blocks for IMZALA_FAULT_DELAY_MS, as a card or a reader that works does:
 * a signal does not cut it short. */
static void
fault_wait (void)
{
  long milliseconds = fault_delay_ms ();
  struct timespec wait = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };

  if (milliseconds > 0)
    while (nanosleep (&wait, &wait) != 0 && errno == EINTR)
      ;
}

static int
has_fault (const char *list,
           const char *name)
{
  size_t length = strlen (name);

  for (const char *p = list; p != NULL && *p != '\0'; )
    {
      const char *end = strchr (p, ',');
      size_t item = end != NULL ? (size_t) (end - p) : strlen (p);

      if (item == length && strncmp (p, name, length) == 0)
        return 1;
      p = end != NULL ? end + 1 : NULL;
    }
  return 0;
}

static CK_RV
fault_Initialize (CK_VOID_PTR args)
{
  const char *list = getenv ("IMZALA_FAULTS");

  faults.init_args_bad = has_fault (list, "init-args-bad");
  faults.rsa_pkcs_only = has_fault (list, "rsa-pkcs-only");
  faults.pin_counter = has_fault (list, "pin-counter");
  faults.pin_pad = has_fault (list, "pin-pad");
  faults.no_so_login = has_fault (list, "no-so-login");
  faults.removed_on_sign = has_fault (list, "removed-on-sign");
  faults.huge_attribute = has_fault (list, "huge-attribute");
  faults.attribute_grows = has_fault (list, "attribute-grows");
  faults.slot_list_grows = has_fault (list, "slot-list-grows");
  faults.slots_reversed = has_fault (list, "slots-reversed");
  faults.huge_mechanism_list = has_fault (list, "huge-mechanism-list");
  faults.signature_grows = has_fault (list, "signature-grows");
  faults.slow_card = has_fault (list, "slow-card");
  faults.pin_expired = has_fault (list, "pin-expired");
  faults.pin_not_initialized = has_fault (list, "pin-not-initialized");
  faults.thread_affine = has_fault (list, "thread-affine");
  faults.count_calls = has_fault (list, "count-calls");
  faults.vendor_library = has_fault (list, "vendor-library");
  wrong_pins = 0;
  user_logged_in = 0;

  if (faults.init_args_bad && args != NULL)
    return CKR_ARGUMENTS_BAD;
  return real->C_Initialize (args);
}

static int
is_rsa_hash_mechanism (CK_MECHANISM_TYPE type)
{
  return type == CKM_SHA1_RSA_PKCS || type == CKM_SHA224_RSA_PKCS || type == CKM_SHA256_RSA_PKCS
         || type == CKM_SHA384_RSA_PKCS || type == CKM_SHA512_RSA_PKCS;
}

static CK_RV
fault_GetMechanismList (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
  CK_MECHANISM_TYPE all[256];
  CK_ULONG n = sizeof all / sizeof all[0];
  CK_ULONG kept = 0;
  CK_RV rv;

  if (faults.huge_mechanism_list)
    {
      /* The most a GArray (guint length) could be asked to hold: 32 GiB. */
      *count = 0xFFFFFFFFUL;
      return list == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
    }
  if (!faults.rsa_pkcs_only)
    return real->C_GetMechanismList (slot, list, count);

  rv = real->C_GetMechanismList (slot, all, &n);
  if (rv != CKR_OK)
    return rv;
  for (CK_ULONG i = 0; i < n; i++)
    if (!is_rsa_hash_mechanism (all[i]))
      all[kept++] = all[i];

  if (list == NULL)
    {
      *count = kept;
      return CKR_OK;
    }
  if (*count < kept)
    {
      *count = kept;
      return CKR_BUFFER_TOO_SMALL;
    }
  memcpy (list, all, kept * sizeof all[0]);
  *count = kept;
  return CKR_OK;
}

/* The lie comes after the real call, so what the module wrote is real and
 * only the length it reports is not. */
#define LIE (((CK_ULONG) 1) << 28)

static CK_RV
fault_GetSlotList (CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
  CK_RV rv = real->C_GetSlotList (present, list, count);

  if (rv == CKR_OK && list != NULL && faults.slots_reversed)
    for (CK_ULONG i = 0; i < *count / 2; i++)
      {
        CK_SLOT_ID swap = list[i];

        list[i] = list[*count - 1 - i];
        list[*count - 1 - i] = swap;
      }
  if (rv == CKR_OK && list != NULL && faults.slot_list_grows)
    *count += LIE;
  return rv;
}

static CK_RV
fault_GetAttributeValue (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                         CK_ATTRIBUTE_PTR template, CK_ULONG count)
{
  CK_OBJECT_CLASS klass = CKO_DATA;
  CK_ATTRIBUTE class_template = { CKA_CLASS, &klass, sizeof klass };
  CK_RV rv = real->C_GetAttributeValue (session, object, template, count);

  if (rv != CKR_OK || (!faults.huge_attribute && !faults.attribute_grows))
    return rv;
  real->C_GetAttributeValue (session, object, &class_template, 1);
  for (CK_ULONG i = 0; i < count; i++)
    {
      if (faults.huge_attribute && klass == CKO_CERTIFICATE
          && template[i].type == CKA_VALUE && template[i].pValue == NULL)
        template[i].ulValueLen = ((CK_ULONG) 1) << 40;
      if (faults.attribute_grows && template[i].type == CKA_LABEL
          && template[i].pValue != NULL)
        template[i].ulValueLen += LIE;
    }
  return rv;
}

const char *imzala_vendor_library_name (void);

static CK_RV
fault_GetInfo (CK_INFO_PTR info)
{
  CK_RV rv = real->C_GetInfo (info);
  const char *name;
  size_t length;

  if (rv != CKR_OK || !faults.vendor_library)
    return rv;
  name = imzala_vendor_library_name ();
  length = strlen (name);
  if (length > sizeof info->libraryDescription)
    length = sizeof info->libraryDescription;
  memset (info->libraryDescription, ' ', sizeof info->libraryDescription);
  memcpy (info->libraryDescription, name, length);
  return CKR_OK;
}

static CK_RV
fault_GetTokenInfo (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  CK_RV rv = real->C_GetTokenInfo (slot, info);

  if (rv != CKR_OK)
    return rv;
  if (faults.pin_pad)
    info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
  if (faults.pin_counter)
    {
      if (wrong_pins == 1)
        info->flags |= CKF_USER_PIN_COUNT_LOW;
      else if (wrong_pins == 2)
        info->flags |= CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY;
      else if (wrong_pins >= 3)
        info->flags |= CKF_USER_PIN_LOCKED;
    }
  return CKR_OK;
}

static CK_RV
fault_Login (CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG length)
{
  CK_RV rv;

  if (user == CKU_SO && faults.no_so_login)
    return CKR_USER_TYPE_INVALID;

  if (faults.pin_pad && pin == NULL)
    {
      pin = (CK_UTF8CHAR_PTR) getenv ("IMZALA_FAULT_PIN");
      length = pin != NULL ? strlen ((const char *) pin) : 0;
    }

  if (user != CKU_SO && faults.pin_counter && wrong_pins >= 3)
    return CKR_PIN_LOCKED;
  if (user == CKU_USER && faults.pin_expired)
    return CKR_PIN_EXPIRED;
  if (user == CKU_USER && faults.pin_not_initialized)
    return CKR_USER_PIN_NOT_INITIALIZED;

  rv = real->C_Login (session, user, pin, length);
  if (user != CKU_SO && faults.pin_counter)
    {
      if (rv == CKR_PIN_INCORRECT)
        wrong_pins++;
      else if (rv == CKR_OK)
        wrong_pins = 0;
    }
  if (user == CKU_USER && (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN))
    user_logged_in = 1;
  return rv;
}

static CK_RV
fault_Logout (CK_SESSION_HANDLE session)
{
  user_logged_in = 0;
  return real->C_Logout (session);
}

static CK_RV
fault_CloseSession (CK_SESSION_HANDLE session)
{
  user_logged_in = 0;
  return real->C_CloseSession (session);
}

/* A slow card: the call blocks, as a real card's does, while the card works. */
static void
card_works (void)
{
  const char *log = getenv ("IMZALA_FAULT_CARD_LOG");

  if (!faults.slow_card)
    return;
  if (log != NULL && *log != '\0')
    {
      FILE *file = fopen (log, "a");

      if (file != NULL)
        {
          fputs ("working\n", file);
          fclose (file);
        }
    }
  fault_wait ();
}

static CK_RV
fault_InitPIN (CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR pin, CK_ULONG length)
{
  CK_RV rv = real->C_InitPIN (session, pin, length);

  if (rv == CKR_OK)
    wrong_pins = 0;
  return rv;
}

static CK_RV
fault_SetPIN (CK_SESSION_HANDLE session,
              CK_UTF8CHAR_PTR old_pin, CK_ULONG old_length,
              CK_UTF8CHAR_PTR new_pin, CK_ULONG new_length)
{
  CK_RV rv;

  card_works ();
  if (!faults.no_so_login || user_logged_in)
    return real->C_SetPIN (session, old_pin, old_length, new_pin, new_length);

  /* The vendor way to unblock: the PUK as the old PIN of a session that is
   * not logged in. */
  rv = real->C_Login (session, CKU_SO, old_pin, old_length);
  if (rv != CKR_OK)
    return rv;
  rv = fault_InitPIN (session, new_pin, new_length);
  real->C_Logout (session);
  return rv;
}

static CK_RV
fault_SignInit (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
  if (faults.rsa_pkcs_only && mechanism != NULL && is_rsa_hash_mechanism (mechanism->mechanism))
    return CKR_MECHANISM_INVALID;
  return real->C_SignInit (session, mechanism, key);
}

static CK_RV
fault_Sign (CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_length,
            CK_BYTE_PTR signature, CK_ULONG_PTR signature_length)
{
  CK_RV rv;

  if (faults.removed_on_sign)
    return CKR_DEVICE_REMOVED;
  card_works ();
  rv = real->C_Sign (session, data, data_length, signature, signature_length);
  if (rv == CKR_OK && signature != NULL && faults.signature_grows)
    *signature_length += LIE;
  return rv;
}

/* ---- Quirks of real cards: pairing, size queries, signature forms ----
 *
 * These functions wrap whatever the wrapper held before (quirk_next), so the
 * faults above still apply under them. */

static CK_FUNCTION_LIST quirk_next;

static size_t quirk_n_sized;
static int quirk_slot_list_answered;
static int quirk_sign_size_asked;
static CK_ULONG quirk_signature_length;
static struct
{
  int active;
  CK_SESSION_HANDLE session;
  CK_OBJECT_HANDLE handles[256];
  CK_ULONG count;
  CK_ULONG next;
} quirk_find;

static CK_RV
quirk_Initialize (CK_VOID_PTR args)
{
  const char *list = getenv ("IMZALA_FAULTS");

  faults.no_shared_id = has_fault (list, "no-shared-id");
  faults.ids_by_label = has_fault (list, "ids-by-label");
  faults.two_keys_one_id = has_fault (list, "two-keys-one-id");
  faults.der_ecdsa = has_fault (list, "der-ecdsa");
  faults.attr_size_too_small = has_fault (list, "attr-size-too-small");
  faults.attr_short_by_one = has_fault (list, "attr-short-by-one");
  faults.slot_list_too_small_once = has_fault (list, "slot-list-too-small-once");
  faults.present_slot_list_empty = has_fault (list, "present-slot-list-empty");
  faults.sign_needs_size_query = has_fault (list, "sign-needs-size-query");
  faults.bad_signature = has_fault (list, "bad-signature");
  /* A test program loads the module again for each test. */
  quirk_n_sized = 0;
  quirk_find.active = 0;
  quirk_slot_list_answered = 0;
  quirk_sign_size_asked = 0;
  quirk_signature_length = 0;
  return quirk_next.C_Initialize (args);
}

static int
quirk_rewrites_ids (void)
{
  return faults.no_shared_id || faults.ids_by_label || faults.two_keys_one_id;
}

static int
quirk_is_key (CK_SESSION_HANDLE session,
              CK_OBJECT_HANDLE  object)
{
  CK_OBJECT_CLASS klass = CKO_DATA;
  CK_ATTRIBUTE attribute = { CKA_CLASS, &klass, sizeof klass };

  if (real->C_GetAttributeValue (session, object, &attribute, 1) != CKR_OK)
    return 0;
  return klass == CKO_PRIVATE_KEY || klass == CKO_PUBLIC_KEY;
}

/* The CKA_ID the module shows for @object: what SoftHSM holds, rewritten by
 * the faults. Returns the length, or -1 when the object has none. */
static long
quirk_virtual_id (CK_SESSION_HANDLE  session,
                  CK_OBJECT_HANDLE   object,
                  unsigned char     *id,
                  size_t             room,
                  int               *rewritten)
{
  CK_ATTRIBUTE attribute = { CKA_ID, id, room - 1 };
  int is_key;

  *rewritten = 0;
  if (real->C_GetAttributeValue (session, object, &attribute, 1) != CKR_OK
      || attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION)
    return -1;
  if (faults.ids_by_label)
    {
      *rewritten = 1;
      return 0;
    }
  is_key = quirk_is_key (session, object);
  if (is_key && faults.two_keys_one_id && attribute.ulValueLen == 1 && id[0] == 0xa3)
    {
      id[0] = 0xa1;
      *rewritten = 1;
    }
  if (is_key && faults.no_shared_id)
    {
      id[attribute.ulValueLen++] = 0xEE;
      *rewritten = 1;
    }
  return (long) attribute.ulValueLen;
}

/* The first size query of each attribute of an object (attr-short-by-one). */
static struct
{
  CK_OBJECT_HANDLE object;
  CK_ATTRIBUTE_TYPE type;
} quirk_sized[1024];

static int
quirk_first_size_query (CK_OBJECT_HANDLE  object,
                        CK_ATTRIBUTE_TYPE type)
{
  for (size_t i = 0; i < quirk_n_sized; i++)
    if (quirk_sized[i].object == object && quirk_sized[i].type == type)
      return 0;
  if (quirk_n_sized < sizeof quirk_sized / sizeof quirk_sized[0])
    {
      quirk_sized[quirk_n_sized].object = object;
      quirk_sized[quirk_n_sized].type = type;
      quirk_n_sized++;
    }
  return 1;
}

static CK_RV
quirk_GetAttributeValue (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                         CK_ATTRIBUTE_PTR template, CK_ULONG count)
{
  int size_query = 0;
  CK_RV rv = CKR_OK;

  if (!quirk_rewrites_ids ())
    rv = quirk_next.C_GetAttributeValue (session, object, template, count);
  else
    {
      /* One attribute at a time, so that a rewritten CKA_ID never meets a
       * buffer sized for the real one. */
      for (CK_ULONG i = 0; i < count; i++)
        {
          CK_RV one = CKR_OK;

          if (template[i].type == CKA_ID)
            {
              unsigned char id[256];
              int rewritten;
              long length = quirk_virtual_id (session, object, id, sizeof id, &rewritten);

              if (length < 0)
                {
                  template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
                  one = CKR_ATTRIBUTE_TYPE_INVALID;
                }
              else if (template[i].pValue == NULL)
                template[i].ulValueLen = (CK_ULONG) length;
              else if (template[i].ulValueLen < (CK_ULONG) length)
                {
                  template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
                  one = CKR_BUFFER_TOO_SMALL;
                }
              else
                {
                  memcpy (template[i].pValue, id, (size_t) length);
                  template[i].ulValueLen = (CK_ULONG) length;
                }
            }
          else if (faults.ids_by_label
                   && (template[i].type == CKA_MODULUS || template[i].type == CKA_EC_POINT)
                   && quirk_is_key (session, object))
            {
              template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
              one = CKR_ATTRIBUTE_TYPE_INVALID;
            }
          else
            one = quirk_next.C_GetAttributeValue (session, object, &template[i], 1);
          if (rv == CKR_OK && one != CKR_OK)
            rv = one;
        }
    }

  for (CK_ULONG i = 0; i < count; i++)
    {
      if (template[i].pValue != NULL || template[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
        continue;
      size_query = 1;
      if (faults.attr_short_by_one && template[i].ulValueLen > 0
          && quirk_first_size_query (object, template[i].type))
        template[i].ulValueLen--;
    }
  if (rv == CKR_OK && size_query && faults.attr_size_too_small)
    rv = CKR_BUFFER_TOO_SMALL;
  return rv;
}

/* A search by CKA_ID under rewritten IDs: the objects are found without the
 * CKA_ID and filtered here. One search at a time (tests use one token). */
static CK_RV
quirk_FindObjectsInit (CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR template, CK_ULONG count)
{
  CK_ATTRIBUTE rest[32];
  CK_ULONG n_rest = 0;
  CK_ATTRIBUTE *wanted = NULL;
  CK_OBJECT_HANDLE found[256];
  CK_ULONG n_found = 0;
  CK_RV rv;

  if (quirk_rewrites_ids () && count <= sizeof rest / sizeof rest[0])
    for (CK_ULONG i = 0; i < count; i++)
      {
        if (template[i].type == CKA_ID)
          wanted = &template[i];
        else
          rest[n_rest++] = template[i];
      }
  if (wanted == NULL)
    {
      if (quirk_find.session == session)
        quirk_find.active = 0;
      return quirk_next.C_FindObjectsInit (session, template, count);
    }

  rv = quirk_next.C_FindObjectsInit (session, rest, n_rest);
  if (rv != CKR_OK)
    return rv;
  for (;;)
    {
      CK_ULONG n = 0;

      rv = quirk_next.C_FindObjects (session, found + n_found,
                                     sizeof found / sizeof found[0] - n_found, &n);
      if (rv != CKR_OK || n == 0)
        break;
      n_found += n;
    }
  quirk_next.C_FindObjectsFinal (session);
  if (rv != CKR_OK)
    return rv;

  quirk_find.active = 1;
  quirk_find.session = session;
  quirk_find.count = 0;
  quirk_find.next = 0;
  /* Rewritten IDs first: with two-keys-one-id the impostor comes first. */
  for (int pass = 1; pass >= 0; pass--)
    for (CK_ULONG i = 0; i < n_found; i++)
      {
        unsigned char id[256];
        int rewritten;
        long length = quirk_virtual_id (session, found[i], id, sizeof id, &rewritten);

        if (rewritten == pass && length >= 0 && (CK_ULONG) length == wanted->ulValueLen
            && memcmp (id, wanted->pValue, (size_t) length) == 0)
          quirk_find.handles[quirk_find.count++] = found[i];
      }
  return CKR_OK;
}

static CK_RV
quirk_FindObjects (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objects,
                   CK_ULONG max, CK_ULONG_PTR count)
{
  if (!quirk_find.active || quirk_find.session != session)
    return quirk_next.C_FindObjects (session, objects, max, count);
  *count = 0;
  while (*count < max && quirk_find.next < quirk_find.count)
    objects[(*count)++] = quirk_find.handles[quirk_find.next++];
  return CKR_OK;
}

static CK_RV
quirk_FindObjectsFinal (CK_SESSION_HANDLE session)
{
  if (!quirk_find.active || quirk_find.session != session)
    return quirk_next.C_FindObjectsFinal (session);
  quirk_find.active = 0;
  return CKR_OK;
}

static CK_RV
quirk_GetSlotList (CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
  if (present && faults.present_slot_list_empty)
    {
      *count = 0;
      return CKR_OK;
    }
  if (list != NULL && faults.slot_list_too_small_once && !quirk_slot_list_answered)
    {
      CK_ULONG n = 0;
      CK_RV rv = quirk_next.C_GetSlotList (present, NULL, &n);

      quirk_slot_list_answered = 1;
      if (rv != CKR_OK)
        return rv;
      *count = n + 1;
      return CKR_BUFFER_TOO_SMALL;
    }
  return quirk_next.C_GetSlotList (present, list, count);
}

static CK_MECHANISM_TYPE quirk_sign_mechanism;
static unsigned char quirk_signature[1024];

static CK_RV
quirk_SignInit (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
  quirk_sign_mechanism = mechanism != NULL ? mechanism->mechanism : CKM_VENDOR_DEFINED;
  quirk_sign_size_asked = 0;
  quirk_signature_length = 0;
  return quirk_next.C_SignInit (session, mechanism, key);
}

/* Appends a DER INTEGER holding the unsigned big-endian @value. */
static size_t
quirk_der_integer (unsigned char       *out,
                   const unsigned char *value,
                   size_t               length)
{
  size_t n = 0;

  while (length > 1 && value[0] == 0)
    {
      value++;
      length--;
    }
  out[n++] = 0x02;
  out[n++] = (unsigned char) (length + (value[0] & 0x80 ? 1 : 0));
  if (value[0] & 0x80)
    out[n++] = 0;
  memcpy (out + n, value, length);
  return n + length;
}

/* r||s as a DER ECDSA-Sig-Value. */
static CK_ULONG
quirk_raw_to_der (const unsigned char *raw,
                  CK_ULONG             length,
                  unsigned char       *der)
{
  unsigned char body[300];
  size_t n;

  n = quirk_der_integer (body, raw, length / 2);
  n += quirk_der_integer (body + n, raw + length / 2, length / 2);
  der[0] = 0x30;
  if (n < 0x80)
    {
      der[1] = (unsigned char) n;
      memcpy (der + 2, body, n);
      return n + 2;
    }
  der[1] = 0x81;
  der[2] = (unsigned char) n;
  memcpy (der + 3, body, n);
  return n + 3;
}

/* What C_Sign gives with der-ecdsa: the DER form, made once per operation
 * and kept, so that a too-small buffer can be answered like a real card. */
static CK_RV
quirk_sign_der (CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_length,
                CK_BYTE_PTR signature, CK_ULONG_PTR signature_length)
{
  if (quirk_signature_length == 0)
    {
      unsigned char raw[300];
      CK_ULONG raw_length = sizeof raw;
      CK_RV rv;

      if (signature == NULL)
        {
          rv = quirk_next.C_Sign (session, data, data_length, NULL, &raw_length);
          if (rv == CKR_OK)
            *signature_length = raw_length + 9;
          return rv;
        }
      rv = quirk_next.C_Sign (session, data, data_length, raw, &raw_length);
      if (rv != CKR_OK)
        return rv;
      quirk_signature_length = quirk_raw_to_der (raw, raw_length, quirk_signature);
    }
  if (signature == NULL)
    {
      *signature_length = quirk_signature_length;
      return CKR_OK;
    }
  if (*signature_length < quirk_signature_length)
    {
      *signature_length = quirk_signature_length;
      return CKR_BUFFER_TOO_SMALL;
    }
  memcpy (signature, quirk_signature, quirk_signature_length);
  *signature_length = quirk_signature_length;
  quirk_signature_length = 0;
  return CKR_OK;
}

static CK_RV
quirk_Sign (CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_length,
            CK_BYTE_PTR signature, CK_ULONG_PTR signature_length)
{
  int der = faults.der_ecdsa && quirk_sign_mechanism == CKM_ECDSA;

  if (faults.sign_needs_size_query)
    {
      if (signature == NULL)
        quirk_sign_size_asked = 1;
      else if (!quirk_sign_size_asked)
        {
          CK_ULONG needed = 0;
          CK_RV rv = der ? quirk_sign_der (session, data, data_length, NULL, &needed)
                         : quirk_next.C_Sign (session, data, data_length, NULL, &needed);

          if (rv != CKR_OK)
            return rv;
          *signature_length = needed;
          return CKR_BUFFER_TOO_SMALL;
        }
    }
  {
    CK_RV rv = der ? quirk_sign_der (session, data, data_length, signature, signature_length)
                   : quirk_next.C_Sign (session, data, data_length, signature, signature_length);

    if (rv == CKR_OK && signature != NULL && faults.bad_signature && *signature_length > 0)
      signature[*signature_length - 1] ^= 0x01;
    return rv;
  }
}

/* Puts the functions above over those the wrapper holds. */
static void
quirk_wrap (void)
{
  quirk_next = wrapper;
  wrapper.C_Initialize = quirk_Initialize;
  wrapper.C_GetAttributeValue = quirk_GetAttributeValue;
  wrapper.C_FindObjectsInit = quirk_FindObjectsInit;
  wrapper.C_FindObjects = quirk_FindObjects;
  wrapper.C_FindObjectsFinal = quirk_FindObjectsFinal;
  wrapper.C_GetSlotList = quirk_GetSlotList;
  wrapper.C_SignInit = quirk_SignInit;
  wrapper.C_Sign = quirk_Sign;
}

/* ---- remove-at and pin-counter-file ----
 *
 * A layer over the wrapper above: every function is counted (and the card
 * pulled at the chosen call), then the call goes on to what the other
 * faults made of it. */

static CK_FUNCTION_LIST inner;
static unsigned long call_count;
static unsigned long remove_at;
static int pin_counter_file;

static unsigned long
remove_at_from_environment (void)
{
  const char *list = getenv ("IMZALA_FAULTS");
  const char *value = getenv ("IMZALA_FAULT_REMOVE_AT");

  for (const char *p = list; value == NULL && p != NULL && *p != '\0'; )
    {
      const char *end = strchr (p, ',');

      if (strncmp (p, "remove-at=", strlen ("remove-at=")) == 0)
        value = p + strlen ("remove-at=");
      p = end != NULL ? end + 1 : NULL;
    }
  return value != NULL ? strtoul (value, NULL, 10) : 0;
}

/* Counts the call; TRUE when the card is out by now. */
static int
card_pulled (const char *name)
{
  const char *log = getenv ("IMZALA_FAULT_CALL_LOG");

  call_count++;
  if (log != NULL && *log != '\0')
    {
      FILE *file = fopen (log, "a");

      if (file != NULL)
        {
          fprintf (file, "%lu C_%s\n", call_count, name);
          fclose (file);
        }
    }
  return remove_at > 0 && call_count >= remove_at;
}

static void
pin_counter_load (void)
{
  const char *path = getenv ("IMZALA_FAULT_PIN_COUNTER_FILE");
  FILE *file;

  if (!pin_counter_file || path == NULL || (file = fopen (path, "r")) == NULL)
    return;
  if (fscanf (file, "%d", &wrong_pins) != 1)
    wrong_pins = 0;
  fclose (file);
}

static void
pin_counter_save (void)
{
  const char *path = getenv ("IMZALA_FAULT_PIN_COUNTER_FILE");
  FILE *file;

  if (!pin_counter_file || path == NULL || (file = fopen (path, "w")) == NULL)
    return;
  fprintf (file, "%d\n", wrong_pins);
  fclose (file);
}

#define COUNTED_PASSED(name, params, args) \
  static CK_RV counted_##name params { card_pulled (#name); return inner.C_##name args; }
#define COUNTED_NOT_PRESENT(name, params, args) \
  static CK_RV counted_##name params \
  { return card_pulled (#name) ? CKR_TOKEN_NOT_PRESENT : inner.C_##name args; }
#define COUNTED_CLEANED(name, params, args) \
  static CK_RV counted_##name params \
  { CK_RV rv = card_pulled (#name) ? CKR_DEVICE_REMOVED : CKR_OK; \
    CK_RV inner_rv = inner.C_##name args; \
    return rv != CKR_OK ? rv : inner_rv; }
#define COUNTED_REMOVED(name, params, args) \
  static CK_RV counted_##name params \
  { return card_pulled (#name) ? CKR_DEVICE_REMOVED : inner.C_##name args; }

COUNTED_PASSED (Finalize, (void *reserved), (reserved))
COUNTED_PASSED (GetInfo, (CK_INFO_PTR info), (info))
COUNTED_PASSED (GetSlotList, (unsigned char token_present, CK_SLOT_ID *slot_list, unsigned long *count), (token_present, slot_list, count))
COUNTED_NOT_PRESENT (GetTokenInfo, (CK_SLOT_ID slot_id, CK_TOKEN_INFO_PTR info), (slot_id, info))
COUNTED_REMOVED (GetMechanismList, (CK_SLOT_ID slot_id, CK_MECHANISM_TYPE *mechanism_list, unsigned long *count), (slot_id, mechanism_list, count))
COUNTED_REMOVED (GetMechanismInfo, (CK_SLOT_ID slot_id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info), (slot_id, type, info))
COUNTED_REMOVED (InitToken, (CK_SLOT_ID slot_id, unsigned char *pin, unsigned long pin_len, unsigned char *label), (slot_id, pin, pin_len, label))
COUNTED_NOT_PRESENT (OpenSession, (CK_SLOT_ID slot_id, CK_FLAGS flags, void *application, CK_NOTIFY notify, CK_SESSION_HANDLE *session), (slot_id, flags, application, notify, session))
COUNTED_CLEANED (CloseSession, (CK_SESSION_HANDLE session), (session))
COUNTED_CLEANED (CloseAllSessions, (CK_SLOT_ID slot_id), (slot_id))
COUNTED_REMOVED (GetSessionInfo, (CK_SESSION_HANDLE session, CK_SESSION_INFO_PTR info), (session, info))
COUNTED_REMOVED (GetOperationState, (CK_SESSION_HANDLE session, unsigned char *operation_state, unsigned long *operation_state_len), (session, operation_state, operation_state_len))
COUNTED_REMOVED (SetOperationState, (CK_SESSION_HANDLE session, unsigned char *operation_state, unsigned long operation_state_len, CK_OBJECT_HANDLE encryption_key, CK_OBJECT_HANDLE authentiation_key), (session, operation_state, operation_state_len, encryption_key, authentiation_key))
COUNTED_CLEANED (Logout, (CK_SESSION_HANDLE session), (session))
COUNTED_REMOVED (CreateObject, (CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR templ, unsigned long count, CK_OBJECT_HANDLE *object), (session, templ, count, object))
COUNTED_REMOVED (CopyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR templ, unsigned long count, CK_OBJECT_HANDLE *new_object), (session, object, templ, count, new_object))
COUNTED_REMOVED (DestroyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object), (session, object))
COUNTED_REMOVED (GetObjectSize, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, unsigned long *size), (session, object, size))
COUNTED_REMOVED (GetAttributeValue, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR templ, unsigned long count), (session, object, templ, count))
COUNTED_REMOVED (SetAttributeValue, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR templ, unsigned long count), (session, object, templ, count))
COUNTED_REMOVED (FindObjectsInit, (CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR templ, unsigned long count), (session, templ, count))
COUNTED_REMOVED (FindObjects, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE *object, unsigned long max_object_count, unsigned long *object_count), (session, object, max_object_count, object_count))
COUNTED_CLEANED (FindObjectsFinal, (CK_SESSION_HANDLE session), (session))
COUNTED_REMOVED (EncryptInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key), (session, mechanism, key))
COUNTED_REMOVED (Encrypt, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *encrypted_data, unsigned long *encrypted_data_len), (session, data, data_len, encrypted_data, encrypted_data_len))
COUNTED_REMOVED (EncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len, unsigned char *encrypted_part, unsigned long *encrypted_part_len), (session, part, part_len, encrypted_part, encrypted_part_len))
COUNTED_REMOVED (EncryptFinal, (CK_SESSION_HANDLE session, unsigned char *last_encrypted_part, unsigned long *last_encrypted_part_len), (session, last_encrypted_part, last_encrypted_part_len))
COUNTED_REMOVED (DecryptInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key), (session, mechanism, key))
COUNTED_REMOVED (Decrypt, (CK_SESSION_HANDLE session, unsigned char *encrypted_data, unsigned long encrypted_data_len, unsigned char *data, unsigned long *data_len), (session, encrypted_data, encrypted_data_len, data, data_len))
COUNTED_REMOVED (DecryptUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part, unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len), (session, encrypted_part, encrypted_part_len, part, part_len))
COUNTED_REMOVED (DecryptFinal, (CK_SESSION_HANDLE session, unsigned char *last_part, unsigned long *last_part_len), (session, last_part, last_part_len))
COUNTED_REMOVED (DigestInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism), (session, mechanism))
COUNTED_REMOVED (Digest, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *digest, unsigned long *digest_len), (session, data, data_len, digest, digest_len))
COUNTED_REMOVED (DigestUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len), (session, part, part_len))
COUNTED_REMOVED (DigestKey, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key), (session, key))
COUNTED_REMOVED (DigestFinal, (CK_SESSION_HANDLE session, unsigned char *digest, unsigned long *digest_len), (session, digest, digest_len))
COUNTED_REMOVED (SignInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key), (session, mechanism, key))
COUNTED_REMOVED (Sign, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *signature, unsigned long *signature_len), (session, data, data_len, signature, signature_len))
COUNTED_REMOVED (SignUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len), (session, part, part_len))
COUNTED_REMOVED (SignFinal, (CK_SESSION_HANDLE session, unsigned char *signature, unsigned long *signature_len), (session, signature, signature_len))
COUNTED_REMOVED (SignRecoverInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key), (session, mechanism, key))
COUNTED_REMOVED (SignRecover, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *signature, unsigned long *signature_len), (session, data, data_len, signature, signature_len))
COUNTED_REMOVED (VerifyInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key), (session, mechanism, key))
COUNTED_REMOVED (Verify, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len, unsigned char *signature, unsigned long signature_len), (session, data, data_len, signature, signature_len))
COUNTED_REMOVED (VerifyUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len), (session, part, part_len))
COUNTED_REMOVED (VerifyFinal, (CK_SESSION_HANDLE session, unsigned char *signature, unsigned long signature_len), (session, signature, signature_len))
COUNTED_REMOVED (VerifyRecoverInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key), (session, mechanism, key))
COUNTED_REMOVED (VerifyRecover, (CK_SESSION_HANDLE session, unsigned char *signature, unsigned long signature_len, unsigned char *data, unsigned long *data_len), (session, signature, signature_len, data, data_len))
COUNTED_REMOVED (DigestEncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len, unsigned char *encrypted_part, unsigned long *encrypted_part_len), (session, part, part_len, encrypted_part, encrypted_part_len))
COUNTED_REMOVED (DecryptDigestUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part, unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len), (session, encrypted_part, encrypted_part_len, part, part_len))
COUNTED_REMOVED (SignEncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part, unsigned long part_len, unsigned char *encrypted_part, unsigned long *encrypted_part_len), (session, part, part_len, encrypted_part, encrypted_part_len))
COUNTED_REMOVED (DecryptVerifyUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part, unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len), (session, encrypted_part, encrypted_part_len, part, part_len))
COUNTED_REMOVED (GenerateKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_ATTRIBUTE_PTR templ, unsigned long count, CK_OBJECT_HANDLE *key), (session, mechanism, templ, count, key))
COUNTED_REMOVED (GenerateKeyPair, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_ATTRIBUTE_PTR public_key_template, unsigned long public_key_attribute_count, CK_ATTRIBUTE_PTR private_key_template, unsigned long private_key_attribute_count, CK_OBJECT_HANDLE *public_key, CK_OBJECT_HANDLE *private_key), (session, mechanism, public_key_template, public_key_attribute_count, private_key_template, private_key_attribute_count, public_key, private_key))
COUNTED_REMOVED (WrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key, unsigned char *wrapped_key, unsigned long *wrapped_key_len), (session, mechanism, wrapping_key, key, wrapped_key, wrapped_key_len))
COUNTED_REMOVED (UnwrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE unwrapping_key, unsigned char *wrapped_key, unsigned long wrapped_key_len, CK_ATTRIBUTE_PTR templ, unsigned long attribute_count, CK_OBJECT_HANDLE *key), (session, mechanism, unwrapping_key, wrapped_key, wrapped_key_len, templ, attribute_count, key))
COUNTED_REMOVED (DeriveKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE base_key, CK_ATTRIBUTE_PTR templ, unsigned long attribute_count, CK_OBJECT_HANDLE *key), (session, mechanism, base_key, templ, attribute_count, key))
COUNTED_REMOVED (SeedRandom, (CK_SESSION_HANDLE session, unsigned char *seed, unsigned long seed_len), (session, seed, seed_len))
COUNTED_REMOVED (GenerateRandom, (CK_SESSION_HANDLE session, unsigned char *random_data, unsigned long random_len), (session, random_data, random_len))
COUNTED_REMOVED (GetFunctionStatus, (CK_SESSION_HANDLE session), (session))
COUNTED_REMOVED (CancelFunction, (CK_SESSION_HANDLE session), (session))
COUNTED_PASSED (WaitForSlotEvent, (CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved), (flags, slot, reserved))

static CK_RV
counted_Initialize (void *args)
{
  const char *list = getenv ("IMZALA_FAULTS");
  CK_RV rv;

  call_count = 0;
  remove_at = remove_at_from_environment ();
  card_pulled ("Initialize");
  rv = inner.C_Initialize (args);
  pin_counter_file = has_fault (list, "pin-counter-file");
  if (pin_counter_file)
    {
      faults.pin_counter = 1;
      pin_counter_load ();
    }
  return rv;
}

static CK_RV
counted_GetSlotInfo (CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
  int pulled = card_pulled ("GetSlotInfo");
  CK_RV rv = inner.C_GetSlotInfo (slot, info);

  if (rv == CKR_OK && pulled)
    info->flags &= ~CKF_TOKEN_PRESENT;
  return rv;
}

static CK_RV
counted_Login (CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG length)
{
  CK_RV rv;

  if (card_pulled ("Login"))
    return CKR_DEVICE_REMOVED;
  rv = inner.C_Login (session, user, pin, length);
  pin_counter_save ();
  return rv;
}

static CK_RV
counted_InitPIN (CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR pin, CK_ULONG length)
{
  CK_RV rv;

  if (card_pulled ("InitPIN"))
    return CKR_DEVICE_REMOVED;
  rv = inner.C_InitPIN (session, pin, length);
  pin_counter_save ();
  return rv;
}

static CK_RV
counted_SetPIN (CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_length,
                CK_UTF8CHAR_PTR new_pin, CK_ULONG new_length)
{
  CK_RV rv;

  if (card_pulled ("SetPIN"))
    return CKR_DEVICE_REMOVED;
  rv = inner.C_SetPIN (session, old_pin, old_length, new_pin, new_length);
  pin_counter_save ();
  return rv;
}

static void
card_removal_wrap (void)
{
  inner = wrapper;
  wrapper.C_Initialize = counted_Initialize;
  wrapper.C_Finalize = counted_Finalize;
  wrapper.C_GetInfo = counted_GetInfo;
  wrapper.C_GetSlotList = counted_GetSlotList;
  wrapper.C_GetSlotInfo = counted_GetSlotInfo;
  wrapper.C_GetTokenInfo = counted_GetTokenInfo;
  wrapper.C_GetMechanismList = counted_GetMechanismList;
  wrapper.C_GetMechanismInfo = counted_GetMechanismInfo;
  wrapper.C_InitToken = counted_InitToken;
  wrapper.C_InitPIN = counted_InitPIN;
  wrapper.C_SetPIN = counted_SetPIN;
  wrapper.C_OpenSession = counted_OpenSession;
  wrapper.C_CloseSession = counted_CloseSession;
  wrapper.C_CloseAllSessions = counted_CloseAllSessions;
  wrapper.C_GetSessionInfo = counted_GetSessionInfo;
  wrapper.C_GetOperationState = counted_GetOperationState;
  wrapper.C_SetOperationState = counted_SetOperationState;
  wrapper.C_Login = counted_Login;
  wrapper.C_Logout = counted_Logout;
  wrapper.C_CreateObject = counted_CreateObject;
  wrapper.C_CopyObject = counted_CopyObject;
  wrapper.C_DestroyObject = counted_DestroyObject;
  wrapper.C_GetObjectSize = counted_GetObjectSize;
  wrapper.C_GetAttributeValue = counted_GetAttributeValue;
  wrapper.C_SetAttributeValue = counted_SetAttributeValue;
  wrapper.C_FindObjectsInit = counted_FindObjectsInit;
  wrapper.C_FindObjects = counted_FindObjects;
  wrapper.C_FindObjectsFinal = counted_FindObjectsFinal;
  wrapper.C_EncryptInit = counted_EncryptInit;
  wrapper.C_Encrypt = counted_Encrypt;
  wrapper.C_EncryptUpdate = counted_EncryptUpdate;
  wrapper.C_EncryptFinal = counted_EncryptFinal;
  wrapper.C_DecryptInit = counted_DecryptInit;
  wrapper.C_Decrypt = counted_Decrypt;
  wrapper.C_DecryptUpdate = counted_DecryptUpdate;
  wrapper.C_DecryptFinal = counted_DecryptFinal;
  wrapper.C_DigestInit = counted_DigestInit;
  wrapper.C_Digest = counted_Digest;
  wrapper.C_DigestUpdate = counted_DigestUpdate;
  wrapper.C_DigestKey = counted_DigestKey;
  wrapper.C_DigestFinal = counted_DigestFinal;
  wrapper.C_SignInit = counted_SignInit;
  wrapper.C_Sign = counted_Sign;
  wrapper.C_SignUpdate = counted_SignUpdate;
  wrapper.C_SignFinal = counted_SignFinal;
  wrapper.C_SignRecoverInit = counted_SignRecoverInit;
  wrapper.C_SignRecover = counted_SignRecover;
  wrapper.C_VerifyInit = counted_VerifyInit;
  wrapper.C_Verify = counted_Verify;
  wrapper.C_VerifyUpdate = counted_VerifyUpdate;
  wrapper.C_VerifyFinal = counted_VerifyFinal;
  wrapper.C_VerifyRecoverInit = counted_VerifyRecoverInit;
  wrapper.C_VerifyRecover = counted_VerifyRecover;
  wrapper.C_DigestEncryptUpdate = counted_DigestEncryptUpdate;
  wrapper.C_DecryptDigestUpdate = counted_DecryptDigestUpdate;
  wrapper.C_SignEncryptUpdate = counted_SignEncryptUpdate;
  wrapper.C_DecryptVerifyUpdate = counted_DecryptVerifyUpdate;
  wrapper.C_GenerateKey = counted_GenerateKey;
  wrapper.C_GenerateKeyPair = counted_GenerateKeyPair;
  wrapper.C_WrapKey = counted_WrapKey;
  wrapper.C_UnwrapKey = counted_UnwrapKey;
  wrapper.C_DeriveKey = counted_DeriveKey;
  wrapper.C_SeedRandom = counted_SeedRandom;
  wrapper.C_GenerateRandom = counted_GenerateRandom;
  wrapper.C_GetFunctionStatus = counted_GetFunctionStatus;
  wrapper.C_CancelFunction = counted_CancelFunction;
  wrapper.C_WaitForSlotEvent = counted_WaitForSlotEvent;
}

/* ---- PIN care: PIN length ranges, pin-pad PIN change, a reader waiting ----
 *
 * Wraps the whole wrapper above (pin_care_next), like the removal layer. */

static CK_FUNCTION_LIST pin_care_next;
static pthread_mutex_t pin_pad_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pin_pad_cond = PTHREAD_COND_INITIALIZER;
static int pin_pad_waiting;
static int pin_pad_cut;
static CK_SESSION_HANDLE pin_pad_session;
static long pin_pad_waits_left;

static CK_UTF8CHAR_PTR
pin_care_typed (const char *variable,
                CK_ULONG   *length)
{
  const char *value = getenv (variable);

  *length = value != NULL ? strlen (value) : 0;
  return (CK_UTF8CHAR_PTR) value;
}

static void
pin_care_log (const char *what)
{
  const char *path = getenv ("IMZALA_FAULT_PIN_PAD_LOG");
  FILE *file;

  if (path == NULL || *path == '\0')
    return;
  file = fopen (path, "a");
  if (file == NULL)
    return;
  fprintf (file, "%s\n", what);
  fclose (file);
}

/* Ends a wait on the reader, if one is going on (for @session, or any with
 * CK_INVALID_HANDLE). */
static void
pin_care_cut_locked (CK_SESSION_HANDLE session)
{
  if (pin_pad_waiting && (session == CK_INVALID_HANDLE || session == pin_pad_session))
    {
      pin_pad_cut = 1;
      pthread_cond_broadcast (&pin_pad_cond);
    }
}

static void
pin_care_cut (CK_SESSION_HANDLE session)
{
  pthread_mutex_lock (&pin_pad_mutex);
  pin_care_cut_locked (session);
  pthread_mutex_unlock (&pin_pad_mutex);
}

/* The reader waits for the PIN; answers whether the wait was cut short
 * (1), ran out (0), or never began because the session was already closed
 * (-1). The session is looked at under the mutex that C_CloseSession,
 * C_CloseAllSessions and C_Finalize hold around their close, so a close
 * cannot slip in between the look and the wait, where it would be lost and
 * the wait run its whole delay. */
static int
pin_care_wait (CK_SESSION_HANDLE session)
{
  long milliseconds = fault_delay_ms ();
  struct timespec until;
  CK_SESSION_INFO info;
  int cut;

  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += milliseconds / 1000;
  until.tv_nsec += (milliseconds % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L)
    {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }

  pthread_mutex_lock (&pin_pad_mutex);
  if (pin_care_next.C_GetSessionInfo (session, &info) != CKR_OK)
    {
      pthread_mutex_unlock (&pin_pad_mutex);
      pin_care_log ("cut");
      return -1;
    }
  pin_pad_waiting = 1;
  pin_pad_cut = 0;
  pin_pad_session = session;
  while (!pin_pad_cut)
    if (pthread_cond_timedwait (&pin_pad_cond, &pin_pad_mutex, &until) != 0)
      break;
  cut = pin_pad_cut;
  pin_pad_waiting = 0;
  pthread_mutex_unlock (&pin_pad_mutex);

  pin_care_log (cut ? "cut" : "timeout");
  return cut;
}

static CK_RV
pin_care_Initialize (CK_VOID_PTR args)
{
  const char *list = getenv ("IMZALA_FAULTS");
  const char *waits;
  CK_RV rv = pin_care_next.C_Initialize (args);

  faults.pin_range = has_fault (list, "pin-range");
  faults.pin_pad_wait = has_fault (list, "pin-pad-wait");
  faults.always_authenticate = has_fault (list, "always-authenticate");
  if (faults.pin_pad_wait)
    faults.pin_pad = 1;
  waits = getenv ("IMZALA_FAULT_PIN_PAD_WAITS");
  pin_pad_waits_left = waits != NULL ? strtol (waits, NULL, 10) : 1;
  return rv;
}

static CK_RV
pin_care_Finalize (CK_VOID_PTR reserved)
{
  CK_RV rv;

  /* Under the mutex, as pin_care_CloseSession()'s close. */
  pthread_mutex_lock (&pin_pad_mutex);
  pin_care_cut_locked (CK_INVALID_HANDLE);
  rv = pin_care_next.C_Finalize (reserved);
  pthread_mutex_unlock (&pin_pad_mutex);
  return rv;
}

static CK_RV
pin_care_GetTokenInfo (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  const char *range = getenv ("IMZALA_FAULT_PIN_RANGE");
  CK_RV rv = pin_care_next.C_GetTokenInfo (slot, info);
  char *end = NULL;

  if (rv != CKR_OK || !faults.pin_range)
    return rv;
  if (range == NULL || *range == '\0')
    range = "6-8";
  info->ulMinPinLen = strtoul (range, &end, 10);
  info->ulMaxPinLen = end != NULL && *end == '-' ? strtoul (end + 1, NULL, 10) : info->ulMinPinLen;
  return rv;
}

static CK_RV
pin_care_GetAttributeValue (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                            CK_ATTRIBUTE_PTR template, CK_ULONG count)
{
  CK_RV rv = pin_care_next.C_GetAttributeValue (session, object, template, count);

  if (!faults.always_authenticate || (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID))
    return rv;
  for (CK_ULONG i = 0; i < count; i++)
    {
      CK_OBJECT_CLASS klass = CKO_DATA;
      CK_ATTRIBUTE class_template = { CKA_CLASS, &klass, sizeof klass };

      if (template[i].type != CKA_ALWAYS_AUTHENTICATE)
        continue;
      pin_care_next.C_GetAttributeValue (session, object, &class_template, 1);
      if (klass != CKO_PRIVATE_KEY)
        continue;
      if (template[i].pValue != NULL && template[i].ulValueLen >= sizeof (CK_BBOOL))
        *(CK_BBOOL *) template[i].pValue = CK_TRUE;
      template[i].ulValueLen = sizeof (CK_BBOOL);
      if (rv == CKR_ATTRIBUTE_TYPE_INVALID && count == 1)
        rv = CKR_OK;
    }
  return rv;
}

static CK_RV
pin_care_Login (CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG length)
{
  if (user == CKU_CONTEXT_SPECIFIC && faults.always_authenticate)
    {
      const char *expected = getenv ("IMZALA_FAULT_PIN");

      if (pin == NULL && faults.pin_pad)
        return CKR_OK;
      if (pin != NULL && expected != NULL && length == strlen (expected) && memcmp (pin, expected, length) == 0)
        return CKR_OK;
      return CKR_PIN_INCORRECT;
    }
  if (faults.pin_pad && pin == NULL)
    {
      if (faults.pin_pad_wait && pin_pad_waits_left > 0)
        {
          const char *late = getenv ("IMZALA_FAULT_PIN_PAD_LATE_MS");
          long late_ms = late != NULL ? atol (late) : 0;

          if (late_ms > 0)
            nanosleep (&(struct timespec) { late_ms / 1000, late_ms % 1000 * 1000000L }, NULL);
          /* Cut short or not, the reader answers that it stopped waiting. */
          pin_pad_waits_left--;
          if (pin_care_wait (session) < 0)
            return CKR_SESSION_HANDLE_INVALID;
          return CKR_FUNCTION_CANCELED;
        }
      if (user == CKU_SO)
        pin = pin_care_typed ("IMZALA_FAULT_PUK", &length);
    }
  return pin_care_next.C_Login (session, user, pin, length);
}

static CK_RV
pin_care_SetPIN (CK_SESSION_HANDLE session,
                 CK_UTF8CHAR_PTR old_pin, CK_ULONG old_length,
                 CK_UTF8CHAR_PTR new_pin, CK_ULONG new_length)
{
  if (faults.pin_pad && old_pin == NULL)
    old_pin = pin_care_typed ("IMZALA_FAULT_PIN", &old_length);
  if (faults.pin_pad && new_pin == NULL)
    new_pin = pin_care_typed ("IMZALA_FAULT_NEW_PIN", &new_length);
  return pin_care_next.C_SetPIN (session, old_pin, old_length, new_pin, new_length);
}

static CK_RV
pin_care_InitPIN (CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR pin, CK_ULONG length)
{
  if (faults.pin_pad && pin == NULL)
    pin = pin_care_typed ("IMZALA_FAULT_NEW_PIN", &length);
  return pin_care_next.C_InitPIN (session, pin, length);
}

static CK_RV
pin_care_CloseSession (CK_SESSION_HANDLE session)
{
  CK_RV rv;

  /* Under the mutex, so that a C_Login about to wait on this session sees it
   * either open (and is then cut here) or closed (and does not wait). The
   * waiting thread leaves the mutex while it waits. */
  pthread_mutex_lock (&pin_pad_mutex);
  pin_care_cut_locked (session);
  rv = pin_care_next.C_CloseSession (session);
  pthread_mutex_unlock (&pin_pad_mutex);
  return rv;
}

static CK_RV
pin_care_CloseAllSessions (CK_SLOT_ID slot)
{
  CK_RV rv;

  /* Under the mutex, as pin_care_CloseSession()'s close. */
  pthread_mutex_lock (&pin_pad_mutex);
  pin_care_cut_locked (CK_INVALID_HANDLE);
  rv = pin_care_next.C_CloseAllSessions (slot);
  pthread_mutex_unlock (&pin_pad_mutex);
  return rv;
}

static CK_RV
pin_care_CancelFunction (CK_SESSION_HANDLE session)
{
  pin_care_cut (session);
  if (faults.pin_pad_wait)
    return CKR_OK;
  return pin_care_next.C_CancelFunction (session);
}

static void
pin_care_wrap (void)
{
  pin_care_next = wrapper;
  wrapper.C_Initialize = pin_care_Initialize;
  wrapper.C_Finalize = pin_care_Finalize;
  wrapper.C_GetTokenInfo = pin_care_GetTokenInfo;
  wrapper.C_GetAttributeValue = pin_care_GetAttributeValue;
  wrapper.C_Login = pin_care_Login;
  wrapper.C_SetPIN = pin_care_SetPIN;
  wrapper.C_InitPIN = pin_care_InitPIN;
  wrapper.C_CloseSession = pin_care_CloseSession;
  wrapper.C_CloseAllSessions = pin_care_CloseAllSessions;
  wrapper.C_CancelFunction = pin_care_CancelFunction;
}

CK_RV C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list);

/* ---- certs-after-login ----
 *
 * A layer between the quirks and the counting layer above them (so a
 * search made here is one counted call): searches made before the login
 * leave out certificates and keys, and the logins are counted by user type.
 */

static CK_FUNCTION_LIST login_next;
static int certs_after_login;
static const char *hiding_token;  /* IMZALA_FAULT_HIDING_TOKEN: the only one, or NULL */
static unsigned long login_user_count;
static unsigned long login_context_count;

static struct
{
  int active;
  CK_SESSION_HANDLE session;
  CK_OBJECT_HANDLE handles[256];
  CK_ULONG count;
  CK_ULONG next;
} login_find;

static CK_RV
login_Initialize (CK_VOID_PTR args)
{
  certs_after_login = has_fault (getenv ("IMZALA_FAULTS"), "certs-after-login");
  hiding_token = getenv ("IMZALA_FAULT_HIDING_TOKEN");
  login_user_count = 0;
  login_context_count = 0;
  login_find.active = 0;
  return login_next.C_Initialize (args);
}

/* Whether the token @info describes hides its certificates before the
 * login: every token, or the one IMZALA_FAULT_HIDING_TOKEN names. */
static int
login_token_hides (const CK_TOKEN_INFO *info)
{
  size_t length;

  if (!certs_after_login)
    return 0;
  if (hiding_token == NULL)
    return 1;
  length = strlen (hiding_token);
  if (length > sizeof info->label || memcmp (info->label, hiding_token, length) != 0)
    return 0;
  for (size_t i = length; i < sizeof info->label; i++)
    if (info->label[i] != ' ')
      return 0;
  return 1;
}

static CK_RV
login_GetTokenInfo (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  CK_RV rv = login_next.C_GetTokenInfo (slot, info);

  if (rv == CKR_OK && login_token_hides (info))
    info->flags |= CKF_LOGIN_REQUIRED;
  return rv;
}

static CK_RV
login_Login (CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG length)
{
  if (user == CKU_USER)
    login_user_count++;
  else if (user == CKU_CONTEXT_SPECIFIC)
    login_context_count++;
  return login_next.C_Login (session, user, pin, length);
}

static int
login_hides (CK_SESSION_HANDLE session)
{
  CK_SESSION_INFO info;

  if (!certs_after_login)
    return 0;
  if (login_next.C_GetSessionInfo (session, &info) != CKR_OK)
    return 1;
  if (hiding_token != NULL)
    {
      CK_TOKEN_INFO token_info;

      if (login_next.C_GetTokenInfo (info.slotID, &token_info) != CKR_OK)
        return 1;
      if (!login_token_hides (&token_info))
        return 0;
    }
  return info.state != CKS_RO_USER_FUNCTIONS && info.state != CKS_RW_USER_FUNCTIONS;
}

static int
login_is_hidden_object (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
{
  CK_OBJECT_CLASS klass = CKO_DATA;
  CK_ATTRIBUTE attribute = { CKA_CLASS, &klass, sizeof klass };

  if (login_next.C_GetAttributeValue (session, object, &attribute, 1) != CKR_OK)
    return 1;
  return klass == CKO_CERTIFICATE || klass == CKO_PRIVATE_KEY || klass == CKO_PUBLIC_KEY;
}

/* Before the login the whole search is made here and filtered. */
static CK_RV
login_FindObjectsInit (CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR template, CK_ULONG count)
{
  CK_OBJECT_HANDLE found[256];
  CK_ULONG n_found = 0;
  CK_RV rv;

  if (login_find.session == session)
    login_find.active = 0;
  if (!login_hides (session))
    return login_next.C_FindObjectsInit (session, template, count);

  rv = login_next.C_FindObjectsInit (session, template, count);
  if (rv != CKR_OK)
    return rv;
  for (;;)
    {
      CK_ULONG n = 0;

      rv = login_next.C_FindObjects (session, found + n_found,
                                     sizeof found / sizeof found[0] - n_found, &n);
      if (rv != CKR_OK || n == 0)
        break;
      n_found += n;
    }
  login_next.C_FindObjectsFinal (session);
  if (rv != CKR_OK)
    return rv;

  login_find.active = 1;
  login_find.session = session;
  login_find.count = 0;
  login_find.next = 0;
  for (CK_ULONG i = 0; i < n_found; i++)
    if (!login_is_hidden_object (session, found[i]))
      login_find.handles[login_find.count++] = found[i];
  return CKR_OK;
}

static CK_RV
login_FindObjects (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objects,
                   CK_ULONG max, CK_ULONG_PTR count)
{
  if (!login_find.active || login_find.session != session)
    return login_next.C_FindObjects (session, objects, max, count);
  *count = 0;
  while (*count < max && login_find.next < login_find.count)
    objects[(*count)++] = login_find.handles[login_find.next++];
  return CKR_OK;
}

static CK_RV
login_FindObjectsFinal (CK_SESSION_HANDLE session)
{
  if (!login_find.active || login_find.session != session)
    return login_next.C_FindObjectsFinal (session);
  login_find.active = 0;
  return CKR_OK;
}

/* The login counts, for the count file of count-calls. */
static void
login_write_counts (FILE *file)
{
  fprintf (file, "login-user %lu\n", login_user_count);
  fprintf (file, "login-context-specific %lu\n", login_context_count);
}

/* Puts the functions above over those the wrapper holds. */
static void
login_wrap (void)
{
  login_next = wrapper;
  wrapper.C_Initialize = login_Initialize;
  wrapper.C_GetTokenInfo = login_GetTokenInfo;
  wrapper.C_Login = login_Login;
  wrapper.C_FindObjectsInit = login_FindObjectsInit;
  wrapper.C_FindObjects = login_FindObjects;
  wrapper.C_FindObjectsFinal = login_FindObjectsFinal;
}

/* ---- thread-affine and count-calls ----
 *
 * A second function list around the one above: every function goes through
 * guard_enter(), which checks the calling thread and counts the call, and
 * then into the wrapper (so the other faults still apply). C_Initialize
 * records its thread before the faults are read, C_Finalize writes the
 * counts after they are. */

static CK_FUNCTION_LIST guard;
static pthread_t initialize_thread;
static int have_initialize_thread;
static pthread_mutex_t guard_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned long thread_violations;

/* The functions in CK_FUNCTION_LIST order, for the counters. */
enum
{
#define GUARD(name, params, args) GUARD_INDEX_##name,
#include "imzala-fault-pkcs11-guards.h"
#undef GUARD
  GUARD_N_FUNCTIONS
};

static const char *const guard_names[] = {
#define GUARD(name, params, args) "C_" #name,
#include "imzala-fault-pkcs11-guards.h"
#undef GUARD
};

static unsigned long guard_counts[GUARD_N_FUNCTIONS];
static unsigned long threads_max;

/* The threads of this process now. */
static unsigned long
count_threads (void)
{
  DIR *dir = opendir ("/proc/self/task");
  struct dirent *entry;
  unsigned long n = 0;

  if (dir == NULL)
    return 0;
  while ((entry = readdir (dir)) != NULL)
    if (entry->d_name[0] != '.')
      n++;
  closedir (dir);
  return n;
}

/* Exported for tests that load this module in their own process. */
unsigned long imzala_fault_thread_violations (void);

unsigned long
imzala_fault_thread_violations (void)
{
  unsigned long n;

  pthread_mutex_lock (&guard_mutex);
  n = thread_violations;
  pthread_mutex_unlock (&guard_mutex);
  return n;
}

static int
guard_enter (int index)
{
  unsigned long threads;
  int allowed = 1;

  if (index == GUARD_INDEX_Initialize && has_fault (getenv ("IMZALA_FAULTS"), "slow-init"))
    fault_wait ();

  threads = faults.count_calls && index != GUARD_INDEX_Initialize ? count_threads () : 0;

  pthread_mutex_lock (&guard_mutex);
  if (threads > threads_max)
    threads_max = threads;
  if (index == GUARD_INDEX_Initialize)
    {
      /* A new life of the module: the counts start again, and the thread
       * that initialises it is the only one it trusts from now on. */
      memset (guard_counts, 0, sizeof guard_counts);
      threads_max = 0;
      thread_violations = 0;
      initialize_thread = pthread_self ();
      have_initialize_thread = 1;
    }
  else if (faults.thread_affine && have_initialize_thread
           && !pthread_equal (initialize_thread, pthread_self ()))
    {
      thread_violations++;
      allowed = 0;
      fprintf (stderr, "imzala-fault-pkcs11: thread-affine: %s called from another thread\n",
               guard_names[index]);
    }
  guard_counts[index]++;
  pthread_mutex_unlock (&guard_mutex);
  return allowed;
}

static void
guard_write_counts (void)
{
  const char *path = getenv ("IMZALA_FAULT_COUNT_FILE");
  FILE *file;

  if (!faults.count_calls || path == NULL || *path == '\0')
    return;
  file = fopen (path, "w");
  if (file == NULL)
    return;
  pthread_mutex_lock (&guard_mutex);
  for (int i = 0; i < GUARD_N_FUNCTIONS; i++)
    if (guard_counts[i] > 0)
      fprintf (file, "%s %lu\n", guard_names[i], guard_counts[i]);
  if (faults.thread_affine)
    fprintf (file, "thread-violations %lu\n", thread_violations);
  if (threads_max > 0)
    fprintf (file, "threads-max %lu\n", threads_max);
  login_write_counts (file);
  pthread_mutex_unlock (&guard_mutex);
  fclose (file);
}

static CK_RV
guard_Finalize (CK_VOID_PTR reserved)
{
  CK_RV rv;

  if (!guard_enter (GUARD_INDEX_Finalize))
    return CKR_GENERAL_ERROR;
  rv = wrapper.C_Finalize (reserved);
  guard_write_counts ();
  pthread_mutex_lock (&guard_mutex);
  have_initialize_thread = 0;
  pthread_mutex_unlock (&guard_mutex);
  return rv;
}

#define GUARD(name, params, args)                        \
  static CK_RV guard_ ## name params                     \
  {                                                      \
    if (!guard_enter (GUARD_INDEX_ ## name))             \
      return CKR_GENERAL_ERROR;                          \
    return wrapper.C_ ## name args;                      \
  }
#define GUARD_SKIP_FINALIZE
#include "imzala-fault-pkcs11-guards.h"
#undef GUARD_SKIP_FINALIZE
#undef GUARD

static void
guard_setup (void)
{
  guard.version = wrapper.version;
  guard.C_GetFunctionList = C_GetFunctionList;
#define GUARD(name, params, args) guard.C_ ## name = guard_ ## name;
#include "imzala-fault-pkcs11-guards.h"
#undef GUARD
  guard.C_Finalize = guard_Finalize;
}

/* ---- slow-slot-list ---- */

static CK_FUNCTION_LIST slow_slot_list_next;

static CK_RV
slow_slot_list_Initialize (CK_VOID_PTR args)
{
  faults.slow_slot_list = has_fault (getenv ("IMZALA_FAULTS"), "slow-slot-list");
  return slow_slot_list_next.C_Initialize (args);
}

/* The answer comes after the delay, as OpenSC's does: the caller's thread
 * (the module's) is blocked the whole time. */
static CK_RV
slow_slot_list_GetSlotList (CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
  if (faults.slow_slot_list)
    fault_wait ();
  return slow_slot_list_next.C_GetSlotList (present, list, count);
}

static void
slow_slot_list_wrap (void)
{
  slow_slot_list_next = wrapper;
  wrapper.C_Initialize = slow_slot_list_Initialize;
  wrapper.C_GetSlotList = slow_slot_list_GetSlotList;
}

/* ---- pin-locked and puk-final-try ---- */

static CK_FUNCTION_LIST unblock_next;

static CK_RV
unblock_Initialize (CK_VOID_PTR args)
{
  const char *list = getenv ("IMZALA_FAULTS");
  CK_RV rv;

  faults.pin_locked = has_fault (list, "pin-locked");
  faults.puk_final_try = has_fault (list, "puk-final-try");
  /* After the inner C_Initialize, which starts the PIN counter at 0. */
  rv = unblock_next.C_Initialize (args);
  if (rv == CKR_OK && faults.pin_locked)
    {
      faults.pin_counter = 1;
      wrong_pins = 3;
    }
  return rv;
}

static CK_RV
unblock_GetTokenInfo (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  CK_RV rv = unblock_next.C_GetTokenInfo (slot, info);

  if (rv == CKR_OK && faults.puk_final_try)
    info->flags |= CKF_SO_PIN_COUNT_LOW | CKF_SO_PIN_FINAL_TRY;
  return rv;
}

static void
unblock_wrap (void)
{
  unblock_next = wrapper;
  wrapper.C_Initialize = unblock_Initialize;
  wrapper.C_GetTokenInfo = unblock_GetTokenInfo;
}

/* ---- puk-count-low ---- */

static CK_FUNCTION_LIST puk_count_low_next;

static CK_RV
puk_count_low_Initialize (CK_VOID_PTR args)
{
  faults.puk_count_low = has_fault (getenv ("IMZALA_FAULTS"), "puk-count-low");
  return puk_count_low_next.C_Initialize (args);
}

static CK_RV
puk_count_low_GetTokenInfo (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  CK_RV rv = puk_count_low_next.C_GetTokenInfo (slot, info);

  if (rv == CKR_OK && faults.puk_count_low)
    info->flags |= CKF_SO_PIN_COUNT_LOW;
  return rv;
}

static void
puk_count_low_wrap (void)
{
  puk_count_low_next = wrapper;
  wrapper.C_Initialize = puk_count_low_Initialize;
  wrapper.C_GetTokenInfo = puk_count_low_GetTokenInfo;
}

/* ---- Fuzzing the attribute readers ---- */

static CK_FUNCTION_LIST fuzz_next;

static struct
{
  const unsigned char *script;
  size_t size;
  size_t offset;
} fuzz_attributes;

/* Exported for tests/fuzz/fuzz-pkcs11-attributes.c. */
void imzala_fault_fuzz_attributes (const unsigned char *script, size_t size);

void
imzala_fault_fuzz_attributes (const unsigned char *script, size_t size)
{
  fuzz_attributes.script = script;
  fuzz_attributes.size = size;
  fuzz_attributes.offset = 0;
}

static int
fuzz_byte (void)
{
  if (fuzz_attributes.offset >= fuzz_attributes.size)
    return -1;
  return fuzz_attributes.script[fuzz_attributes.offset++];
}

static CK_RV
fuzz_GetAttributeValue (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                        CK_ATTRIBUTE_PTR template, CK_ULONG count)
{
  static const CK_RV answers[] = {
    CKR_OK, CKR_OK, CKR_OK, CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL,
    CKR_ATTRIBUTE_SENSITIVE, CKR_DEVICE_ERROR, CKR_GENERAL_ERROR,
  };
  static const CK_ULONG absurd[] = {
    (CK_ULONG) 1 << 40, (CK_ULONG) 1 << 28, (CK_ULONG) -2, 0x7fffffff,
  };
  CK_RV rv;
  int op;

  if (fuzz_attributes.script == NULL)
    return fuzz_next.C_GetAttributeValue (session, object, template, count);
  if ((op = fuzz_byte ()) < 0)
    return CKR_DEVICE_REMOVED;
  rv = answers[op % (sizeof answers / sizeof answers[0])];

  for (CK_ULONG i = 0; i < count; i++)
    {
      int kind = fuzz_byte ();
      int high, low;
      CK_ULONG length, written;

      if (kind < 0)
        return CKR_DEVICE_REMOVED;
      switch (kind % 4)
        {
        case 0:
          template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
          break;
        case 1:
          if ((high = fuzz_byte ()) < 0 || (low = fuzz_byte ()) < 0)
            return CKR_DEVICE_REMOVED;
          length = ((CK_ULONG) high << 8) | (CK_ULONG) low;
          if (template[i].pValue != NULL && template[i].ulValueLen >= length)
            {
              /* Never past the caller's buffer: only the lengths lie. */
              for (written = 0; written < length; written++)
                {
                  int c = fuzz_byte ();
                  ((unsigned char *) template[i].pValue)[written] = c < 0 ? 0 : (unsigned char) c;
                }
            }
          else if (template[i].pValue != NULL && rv == CKR_OK)
            rv = CKR_BUFFER_TOO_SMALL;
          template[i].ulValueLen = length;
          break;
        case 2:
          template[i].ulValueLen = absurd[(kind / 4) % (sizeof absurd / sizeof absurd[0])];
          break;
        default:
          if ((low = fuzz_byte ()) < 0)
            return CKR_DEVICE_REMOVED;
          length = (CK_ULONG) low;
          written = 0;
          if (template[i].pValue != NULL)
            for (; written < length && written < template[i].ulValueLen; written++)
              ((unsigned char *) template[i].pValue)[written] = (unsigned char) (kind + written);
          template[i].ulValueLen = written + (CK_ULONG) (kind / 4);
          break;
        }
    }
  return rv;
}

static void
fuzz_attributes_wrap (void)
{
  fuzz_next = wrapper;
  wrapper.C_GetAttributeValue = fuzz_GetAttributeValue;
}

CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  if (real == NULL)
    {
      const char *target = getenv ("IMZALA_FAULT_TARGET");
      CK_RV (*get_function_list) (CK_FUNCTION_LIST_PTR_PTR);
      void *handle;
      CK_RV rv;

      handle = dlopen (target != NULL ? target : "/usr/lib/softhsm/libsofthsm2.so",
                       RTLD_NOW | RTLD_LOCAL);
      if (handle == NULL)
        return CKR_GENERAL_ERROR;
      get_function_list = (CK_RV (*) (CK_FUNCTION_LIST_PTR_PTR)) dlsym (handle, "C_GetFunctionList");
      if (get_function_list == NULL)
        return CKR_GENERAL_ERROR;
      rv = get_function_list (&real);
      if (rv != CKR_OK)
        return rv;

      wrapper = *real;
      wrapper.C_GetFunctionList = C_GetFunctionList;
      wrapper.C_Initialize = fault_Initialize;
      wrapper.C_GetMechanismList = fault_GetMechanismList;
      wrapper.C_GetInfo = fault_GetInfo;
      wrapper.C_GetTokenInfo = fault_GetTokenInfo;
      wrapper.C_GetSlotList = fault_GetSlotList;
      wrapper.C_GetAttributeValue = fault_GetAttributeValue;
      wrapper.C_Login = fault_Login;
      wrapper.C_Logout = fault_Logout;
      wrapper.C_CloseSession = fault_CloseSession;
      wrapper.C_InitPIN = fault_InitPIN;
      wrapper.C_SetPIN = fault_SetPIN;
      wrapper.C_SignInit = fault_SignInit;
      wrapper.C_Sign = fault_Sign;
      quirk_wrap ();
      login_wrap ();
      /* Last: it wraps what is above. */
      card_removal_wrap ();
      pin_care_wrap ();
      slow_slot_list_wrap ();
      unblock_wrap ();
      puk_count_low_wrap ();
      /* Outside everything: it answers without the wrapped module. */
      fuzz_attributes_wrap ();
    }

  if (guard.C_GetFunctionList == NULL)
    guard_setup ();
  *list = &guard;
  return CKR_OK;
}
