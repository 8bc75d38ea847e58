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
 *                    slow card, so that a test can act while the card works
 *   pin-expired      C_Login as the user answers CKR_PIN_EXPIRED, like a
 *                    card that wants its transport PIN changed first
 *   pin-not-initialized  C_Login as the user answers
 *                    CKR_USER_PIN_NOT_INITIALIZED, like a card that was
 *                    never given a user PIN
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
 * State is process-wide, not per token: tests use one token at a time.
 *
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
 *                    out), so that a test can bound the calls of a command
 *   slow-init        C_Initialize takes IMZALA_FAULT_DELAY_MS milliseconds
 *                    (default 3000), like OpenSC with a card it does not
 *                    know, so that a test can check nobody waits for it
 */
#include "config.h"

#include <dlfcn.h>
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
  int signature_grows;
  int slow_card;
  int huge_mechanism_list;
  int pin_expired;
  int pin_not_initialized;
  int thread_affine;
  int count_calls;
} faults;

static int wrong_pins;
static int user_logged_in;

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
  faults.huge_mechanism_list = has_fault (list, "huge-mechanism-list");
  faults.signature_grows = has_fault (list, "signature-grows");
  faults.slow_card = has_fault (list, "slow-card");
  faults.pin_expired = has_fault (list, "pin-expired");
  faults.pin_not_initialized = has_fault (list, "pin-not-initialized");
  faults.thread_affine = has_fault (list, "thread-affine");
  faults.count_calls = has_fault (list, "count-calls");
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
  const char *delay = getenv ("IMZALA_FAULT_DELAY_MS");
  long milliseconds = delay != NULL ? strtol (delay, NULL, 10) : 3000;
  struct timespec wait = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };

  if (faults.slow_card && milliseconds > 0)
    nanosleep (&wait, NULL);
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

CK_RV C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list);

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
  int allowed = 1;

  if (index == GUARD_INDEX_Initialize && has_fault (getenv ("IMZALA_FAULTS"), "slow-init"))
    {
      const char *delay = getenv ("IMZALA_FAULT_DELAY_MS");
      long milliseconds = delay != NULL ? strtol (delay, NULL, 10) : 3000;
      struct timespec wait = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };

      nanosleep (&wait, NULL);
    }

  pthread_mutex_lock (&guard_mutex);
  if (index == GUARD_INDEX_Initialize)
    {
      /* A new life of the module: the counts start again, and the thread
       * that initialises it is the only one it trusts from now on. */
      memset (guard_counts, 0, sizeof guard_counts);
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
    }

  if (guard.C_GetFunctionList == NULL)
    guard_setup ();
  *list = &guard;
  return CKR_OK;
}
