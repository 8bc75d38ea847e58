#define G_LOG_DOMAIN "imzala-http"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gmodule.h>

#include "imzala-error.h"
#include "imzala-http-backend.h"
#include "imzala-http-session.h"
#include "imzala-sanitizers.h"

struct _ImzalaHttpSession
{
  GObject parent_instance;

  const ImzalaHttpBackend *backend;
  GObject                 *session;  /* the backend's (a SoupSession) */
};

G_DEFINE_FINAL_TYPE (ImzalaHttpSession, imzala_http_session, G_TYPE_OBJECT)

/* ---- The sanitizer build ---- */

#ifdef IMZALA_ASAN
/* Only in an AddressSanitizer build, and only in the programs that link
 * this file (the ones that load the HTTP module). The module's TLS
 * connections bring glib-networking's GnuTLS in with dlopen(), so GnuTLS's
 * thread-local variables live in blocks that glibc allocates with malloc()
 * when a thread first uses them. The sanitizer runtime of GCC 12 and LLVM
 * before 17 records each such block from its __tls_get_addr() interceptor
 * and guesses its bounds: a block at a page offset of 16 is taken for
 * glibc 2.19's __signal_safe_memalign() layout, and the 16 bytes before it
 * (AddressSanitizer's own chunk header) are read as its start and size. A
 * new thread's first small block is often exactly there, and when that
 * thread is still alive at exit, LeakSanitizer's tracer scans the bogus
 * range and dies ("Tracer caught signal 11"; google/sanitizers#1322, fixed
 * upstream by "Fix tls_get_addr handling for glibc >=2.25", LLVM 17). With
 * the interception off, LeakSanitizer still scans these blocks: since
 * glibc 2.25 they are heap blocks reached from the thread's DTV, which the
 * thread's static TLS points to, so no leak goes unseen and none is made
 * up. tests/meson.build's test_env sets the same option, but the portal
 * tests run imzala-portal and imzala-cli with environments of their own
 * (portal-pki's imzala-cli crashed so), as does anyone running a sanitizer
 * build by hand; here it holds for every such program. ASAN_OPTIONS given
 * at run time still win. */
const char *__asan_default_options (void);

__attribute__ ((visibility ("default"), used)) const char *
__asan_default_options (void)
{
  return "intercept_tls_get_addr=0";
}
#endif

/* ---- The module ---- */

typedef struct
{
  const ImzalaHttpBackend *backend;
  char                    *path;   /* what was tried, for the error */
  char                    *why;    /* why it failed, for the debug log */
  GThread                 *thread; /* the thread that loaded it */
} BackendLoad;

static GOnce backend_once = G_ONCE_INIT;

/* Once per process, on whichever thread asks first. The module stays
 * loaded for good: libsoup registers GTypes, which cannot be unregistered. */
static gpointer
load_backend (gpointer data)
{
  BackendLoad *load = g_new0 (BackendLoad, 1);
  const char *dir = g_getenv ("IMZALA_HTTP_MODULE_DIR");
  ImzalaHttpBackendGetFunc get = NULL;
  GModule *module;

  load->thread = g_thread_self ();

  if (dir == NULL || *dir == '\0')
    dir = PKGLIBDIR;
  load->path = g_module_build_path (dir, IMZALA_HTTP_BACKEND_MODULE);
  /* LOCAL: libsoup's symbols (and its 14 libraries') are for the module, not
   * for what the process loads later (a PKCS#11 module). LAZY: a symbol is
   * bound when it is first called, as for a library linked at start; binding
   * all of them at once made the module's load 2.7 M instructions dearer
   * (callgrind: 9.4 M against 6.7 M). */
  module = g_module_open (load->path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (module == NULL)
    {
      load->why = g_strdup (g_module_error ());
      return load;
    }
  if (!g_module_symbol (module, IMZALA_HTTP_BACKEND_SYMBOL, (gpointer *) &get) || get == NULL
      || (load->backend = get (IMZALA_HTTP_BACKEND_ABI)) == NULL)
    {
      load->why = g_strdup ("not the module of this version of İmzala");
      g_module_close (module);
      return load;
    }
  g_module_make_resident (module);
  g_debug ("Loaded %s", load->path);
  return load;
}

static const ImzalaHttpBackend *
get_backend (GError **error)
{
  BackendLoad *load = g_once (&backend_once, load_backend, NULL);

  if (load->backend == NULL)
    {
      g_debug ("Cannot load %s: %s", load->path, load->why);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NETWORK,
                   _("İmzala's network component (%s) cannot be loaded, so İmzala cannot "
                     "connect to anything. Reinstall İmzala."), load->path);
    }
  return load->backend;
}

static void
preload_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GError *error = NULL;

  /* A module that cannot be loaded is reported to the first session. */
  if (get_backend (&error) == NULL)
    g_clear_error (&error);
  g_task_return_boolean (task, TRUE);
}

void
imzala_http_init_tls_policy (const char *priority)
{
  g_return_if_fail (priority != NULL);

  g_setenv ("G_TLS_GNUTLS_PRIORITY", priority, TRUE);
}

void
imzala_http_preload (void)
{
  g_autoptr(GTask) task = NULL;

  if (g_atomic_int_get (&backend_once.status) == G_ONCE_STATUS_READY)
    return;
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (task, imzala_http_preload);
  g_task_run_in_thread (task, preload_thread);
}

GThread *
imzala_http_get_backend_thread (void)
{
  if (g_atomic_int_get (&backend_once.status) != G_ONCE_STATUS_READY)
    return NULL;
  return ((BackendLoad *) backend_once.retval)->thread;
}

char *
imzala_http_dup_backend_version (GError **error)
{
  const ImzalaHttpBackend *backend = get_backend (error);

  return backend != NULL ? backend->dup_version () : NULL;
}

/* ---- The session ---- */

static void
imzala_http_session_finalize (GObject *object)
{
  ImzalaHttpSession *self = IMZALA_HTTP_SESSION (object);

  g_clear_object (&self->session);

  G_OBJECT_CLASS (imzala_http_session_parent_class)->finalize (object);
}

static void
imzala_http_session_class_init (ImzalaHttpSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_http_session_finalize;
}

static void
imzala_http_session_init (ImzalaHttpSession *self)
{
}

ImzalaHttpSession *
imzala_http_session_new (const char  *user_agent,
                         guint        timeout,
                         guint        idle_timeout,
                         guint        max_conns_per_host,
                         GError     **error)
{
  const ImzalaHttpBackend *backend = get_backend (error);
  ImzalaHttpSession *self;

  if (backend == NULL)
    return NULL;
  self = g_object_new (IMZALA_TYPE_HTTP_SESSION, NULL);
  self->backend = backend;
  self->session = backend->session_new (user_agent, timeout, idle_timeout, max_conns_per_host);
  return self;
}

void
imzala_http_session_set_timeout (ImzalaHttpSession *self,
                                 guint              seconds)
{
  g_return_if_fail (IMZALA_IS_HTTP_SESSION (self));
  self->backend->session_set_timeout (self->session, seconds);
}

void
imzala_http_session_set_extra_ca (ImzalaHttpSession *self,
                                  GTlsDatabase      *extra_ca)
{
  g_return_if_fail (IMZALA_IS_HTTP_SESSION (self));
  g_return_if_fail (extra_ca == NULL || G_IS_TLS_DATABASE (extra_ca));
  self->backend->session_set_extra_ca (self->session, extra_ca);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImzalaHttpSession *self = g_task_get_source_object (task);
  ImzalaHttpMessage *message = g_task_get_task_data (task);
  GInputStream *stream;
  GError *error = NULL;

  stream = self->backend->send_finish (source, result,
                                       imzala_http_message_get_response_data (message), &error);
  if (stream == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, stream, g_object_unref);
}

void
imzala_http_session_send_async (ImzalaHttpSession   *self,
                                ImzalaHttpMessage   *message,
                                int                  io_priority,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (IMZALA_IS_HTTP_SESSION (self));
  g_return_if_fail (IMZALA_IS_HTTP_MESSAGE (message));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_http_session_send_async);
  /* The backend reports cancellation itself, as libsoup words it. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, g_object_ref (message), g_object_unref);
  self->backend->send_async (self->session, imzala_http_message_get_request_data (message),
                             io_priority, cancellable, send_cb, task);
}

GInputStream *
imzala_http_session_send_finish (ImzalaHttpSession  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GInputStream *
imzala_http_session_send (ImzalaHttpSession  *self,
                          ImzalaHttpMessage  *message,
                          GCancellable       *cancellable,
                          GError            **error)
{
  g_return_val_if_fail (IMZALA_IS_HTTP_SESSION (self), NULL);
  g_return_val_if_fail (IMZALA_IS_HTTP_MESSAGE (message), NULL);

  return self->backend->send (self->session, imzala_http_message_get_request_data (message),
                              imzala_http_message_get_response_data (message), cancellable, error);
}
