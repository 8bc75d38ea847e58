/* imzala-module.c: one loaded PKCS#11 module and the thread that calls it.
 *
 * Every call into a module, from C_Initialize to C_Finalize, is made on the
 * module's own worker thread: vendor middleware (AKİS loaded unmanaged, and
 * other single-threaded modules) may only be called from the thread that
 * initialised it. The thread and its queue live in a ModuleThread, which is
 * reference counted apart from the GObject: the last unref of an
 * ImzalaModule can happen on any thread, even on the module's own (a work
 * item dropping the last token), and the thread must outlive the object in
 * that case. A process-wide list of the threads lets a program close every
 * module and join its thread before it returns from main()
 * (imzala_module_close_all()).
 *
 * A program that makes all its card calls from one thread, and may block
 * that thread while the card works, can have a module called on that thread
 * instead (imzala_module_set_set_single_thread(): imzala-cli sign). The
 * ModuleThread then has no GThread and no queue is read: an item runs as it
 * is queued, on the thread that made the module, which is the one thread
 * allowed to queue it. The rule above holds, as that thread initialised the
 * module; the process starts no thread for it, and no item waits for a
 * thread to wake up.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-module.h"
#include "imzala-pkcs11-private.h"

typedef struct _ModuleThread ModuleThread;

typedef struct
{
  /* An asynchronous item: a GTask and its function (the item holds a
   * reference on the task and on the module). */
  GTask *task;
  GTaskThreadFunc task_func;
  ImzalaModule *module;

  /* A synchronous item: a function, and the caller waiting for it. */
  ImzalaModuleFunc func;
  gpointer user_data;
  GError **error;
  gboolean result;
  GMutex *mutex;
  GCond *cond;
  gboolean done;

  /* The last item: the thread ends after it. */
  gboolean quit;
} WorkItem;

struct _ModuleThread
{
  gatomicrefcount ref_count;
  char *name;

  /* Guards thread and closed, which other threads read. */
  GMutex mutex;
  GThread *thread;
  /* Called on the thread that made it: no thread of its own. */
  gboolean on_caller;
  GAsyncQueue *queue; /* WorkItem */
  gboolean closed;
  /* The worker, not owned and never cleared: the items queued before a
   * close still run on it after the close took thread (a logout queued
   * as a job ends, then the modules closed). */
  GThread *worker;

  /* Only touched on the thread (and before it started). */
  CK_FUNCTION_LIST *functions;
  gboolean unmanaged;
  gboolean finalize;
  gpointer dl_handle;
};

struct _ImzalaModule
{
  GObject parent_instance;

  ModuleThread *thread;
  CK_INFO info;

  char *name;
  char *path;
  char *description;
  char *manufacturer;
  char *version;

  GRecMutex lock;

  /* The certificates of the tokens seen, read once per insertion
   * (CachedToken). Only touched on the module's thread. */
  GPtrArray *certificate_cache;

  /* The logged-in sessions kept open for a later signature
   * (imzala-token-session.c): LoginSession, on the module's thread only. */
  GArray *login_sessions;
};

typedef struct
{
  CK_SLOT_ID slot;
  CK_SESSION_HANDLE session;
} LoginSession;

typedef struct
{
  CK_SLOT_ID slot;
  /* What identifies the card in the slot: CK_TOKEN_INFO without the flags
   * and counters, which change with the PIN state and sessions. */
  char *identity;
  GPtrArray *certificates; /* ImzalaCertificate */
} CachedToken;

G_DEFINE_FINAL_TYPE (ImzalaModule, imzala_module, G_TYPE_OBJECT)

static void
cached_token_free (CachedToken *cached)
{
  g_free (cached->identity);
  g_ptr_array_unref (cached->certificates);
  g_free (cached);
}

/* Every module thread not closed yet, for imzala_module_close_all(). */
static GMutex all_threads_mutex;
static GPtrArray *all_threads;

static ModuleThread *
module_thread_ref (ModuleThread *thread)
{
  g_atomic_ref_count_inc (&thread->ref_count);
  return thread;
}

static void
module_thread_unref (ModuleThread *thread)
{
  if (!g_atomic_ref_count_dec (&thread->ref_count))
    return;

  g_assert (thread->functions == NULL);
  g_async_queue_unref (thread->queue);
  g_mutex_clear (&thread->mutex);
  g_free (thread->name);
  g_free (thread);
}

static gboolean
module_thread_is_current (ModuleThread *thread)
{
  gboolean current;

  g_mutex_lock (&thread->mutex);
  current = thread->worker != NULL && thread->worker == g_thread_self ();
  g_mutex_unlock (&thread->mutex);
  return current;
}

static void
work_item_run (WorkItem *item)
{
  if (item->task != NULL)
    {
      ImzalaModule *module = item->module;

      if (module->thread->functions == NULL)
        g_task_return_new_error (item->task, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                 _("The PKCS#11 module “%s” has been closed."), module->name);
      else
        {
          GCancellable *cancellable = g_task_get_cancellable (item->task);

          /* The task's cancellable is the current one while it runs, so a
           * call deep in the token code can be cut short by it (a pin-pad
           * wait, imzala-token-pin-pad.c). */
          if (cancellable != NULL)
            g_cancellable_push_current (cancellable);
          item->task_func (item->task, g_task_get_source_object (item->task),
                           g_task_get_task_data (item->task), cancellable);
          if (cancellable != NULL)
            g_cancellable_pop_current (cancellable);
        }
      /* The task's callback runs on the caller's main context and holds its
       * own reference there, so the last references of the task, its source
       * object and its data are normally dropped there, not here. */
      g_clear_object (&item->task);
      g_clear_object (&item->module);
      g_free (item);
      return;
    }

  if (item->func != NULL)
    item->result = item->func (item->user_data, item->error);

  if (item->mutex != NULL)
    {
      g_mutex_lock (item->mutex);
      item->done = TRUE;
      g_cond_signal (item->cond);
      g_mutex_unlock (item->mutex);
    }
  else
    {
      g_free (item);
    }
}

static gpointer
module_thread_main (gpointer data)
{
  ModuleThread *thread = data;

  for (;;)
    {
      WorkItem *item = g_async_queue_pop (thread->queue);
      gboolean quit = item->quit;

      work_item_run (item);
      if (quit)
        break;
    }

  module_thread_unref (thread);
  return NULL;
}

static ModuleThread *
module_thread_new (const char *name,
                   gboolean    on_caller)
{
  ModuleThread *thread = g_new0 (ModuleThread, 1);

  g_atomic_ref_count_init (&thread->ref_count);
  g_mutex_init (&thread->mutex);
  thread->name = g_strdup (name);
  thread->queue = g_async_queue_new ();
  thread->on_caller = on_caller;
  if (on_caller)
    {
      thread->worker = g_thread_self ();
    }
  else
    {
      g_autofree char *thread_name = g_strdup_printf ("pkcs11:%s", name);

      /* The thread holds its own reference until its last item. */
      thread->thread = g_thread_new (thread_name, module_thread_main, module_thread_ref (thread));
      thread->worker = thread->thread;
    }

  g_mutex_lock (&all_threads_mutex);
  if (all_threads == NULL)
    all_threads = g_ptr_array_new ();
  g_ptr_array_add (all_threads, module_thread_ref (thread));
  g_mutex_unlock (&all_threads_mutex);

  return thread;
}

/* Queues @item unless the thread is closed; a module called on its
 * caller's thread runs it right here instead, and refuses it from any
 * other thread. */
static gboolean
module_thread_push (ModuleThread *thread,
                    WorkItem     *item)
{
  gboolean pushed = FALSE;
  gboolean run_here = FALSE;

  g_mutex_lock (&thread->mutex);
  if (thread->closed)
    {
      /* Refused. */
    }
  else if (!thread->on_caller)
    {
      /* Not touched after this: the item may end the thread. */
      g_async_queue_push (thread->queue, item);
      pushed = TRUE;
    }
  else if (thread->worker == g_thread_self ())
    {
      pushed = run_here = TRUE;
    }
  else
    {
      g_critical ("The PKCS#11 module %s is called on the thread that loaded it only", thread->name);
    }
  g_mutex_unlock (&thread->mutex);

  /* Outside the lock: the item may queue items of its own. */
  if (run_here)
    work_item_run (item);
  return pushed;
}

/* Runs on the module's thread: C_Finalize and unloading. */
static gboolean
finalize_functions (gpointer   user_data,
                    GError   **error)
{
  ModuleThread *thread = user_data;
  CK_RV rv;

  if (thread->functions == NULL)
    return TRUE;

  if (thread->unmanaged)
    {
      /* The library stays mapped: vendor modules often leave reader
       * monitoring threads behind after C_Finalize, and unmapping their code
       * under them crashes the process. */
      rv = thread->finalize ? thread->functions->C_Finalize (NULL) : CKR_OK;
    }
  else
    {
      rv = p11_kit_module_finalize (thread->functions);
      p11_kit_module_release (thread->functions);
    }
  if (rv != CKR_OK)
    g_debug ("C_Finalize of %s: %s", thread->name, p11_kit_strerror (rv));
  thread->functions = NULL;
  return TRUE;
}

/* Finalizes the module on its thread and ends the thread; joins it unless
 * called on it. Later work items are refused. */
static void
module_thread_close (ModuleThread *thread)
{
  GThread *gthread;
  WorkItem *quit;

  g_mutex_lock (&thread->mutex);
  if (thread->closed)
    {
      g_mutex_unlock (&thread->mutex);
      return;
    }
  thread->closed = TRUE;
  gthread = g_steal_pointer (&thread->thread);

  if (thread->on_caller)
    {
      /* No thread to end: finalized right here, on the thread that
       * closes it (the program's one thread: it drops the module, or
       * imzala_module_close_all() before main() returns). */
      g_mutex_unlock (&thread->mutex);
      finalize_functions (thread, NULL);
    }
  else if (gthread == g_thread_self ())
    {
      /* Called by a work item (the last reference dropped on the module's
       * own thread): finalize right here, then let the thread end after
       * this item. It cannot join itself, so it is detached; nothing of the
       * module is left for it to do. */
      g_mutex_unlock (&thread->mutex);
      finalize_functions (thread, NULL);
      quit = g_new0 (WorkItem, 1);
      quit->quit = TRUE;
      g_async_queue_push (thread->queue, quit);
      g_thread_unref (gthread);
    }
  else
    {
      GMutex mutex;
      GCond cond;
      WorkItem item = { 0 };

      g_mutex_init (&mutex);
      g_cond_init (&cond);
      item.func = finalize_functions;
      item.user_data = thread;
      item.mutex = &mutex;
      item.cond = &cond;
      item.quit = TRUE;
      /* After every item queued before it. */
      g_async_queue_push (thread->queue, &item);
      g_mutex_unlock (&thread->mutex);

      g_mutex_lock (&mutex);
      while (!item.done)
        g_cond_wait (&cond, &mutex);
      g_mutex_unlock (&mutex);
      g_mutex_clear (&mutex);
      g_cond_clear (&cond);
      g_thread_join (gthread);
    }

  g_mutex_lock (&all_threads_mutex);
  if (all_threads != NULL && g_ptr_array_remove_fast (all_threads, thread))
    module_thread_unref (thread);
  g_mutex_unlock (&all_threads_mutex);
}

static void
imzala_module_finalize (GObject *object)
{
  ImzalaModule *self = IMZALA_MODULE (object);

  module_thread_close (self->thread);
  g_clear_pointer (&self->thread, module_thread_unref);

  g_free (self->name);
  g_free (self->path);
  g_free (self->description);
  g_free (self->manufacturer);
  g_free (self->version);
  g_rec_mutex_clear (&self->lock);
  g_ptr_array_unref (self->certificate_cache);
  g_array_unref (self->login_sessions);

  G_OBJECT_CLASS (imzala_module_parent_class)->finalize (object);
}

static void
imzala_module_class_init (ImzalaModuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_module_finalize;
}

static void
imzala_module_init (ImzalaModule *self)
{
  g_rec_mutex_init (&self->lock);
  self->certificate_cache = g_ptr_array_new_with_free_func ((GDestroyNotify) cached_token_free);
  self->login_sessions = g_array_new (FALSE, FALSE, sizeof (LoginSession));
}

char *
imzala_pkcs11_padded_to_utf8 (const CK_UTF8CHAR *text,
                              gsize              length)
{
  g_autofree char *raw = p11_kit_space_strdup (text, length);

  return g_utf8_make_valid (raw, -1);
}

ImzalaModule *
imzala_module_new (const char *name,
                   const char *path,
                   gboolean    on_caller)
{
  ImzalaModule *self = g_object_new (IMZALA_TYPE_MODULE, NULL);

  self->name = g_strdup (name);
  self->path = g_strdup (path);
  self->description = g_strdup ("");
  self->manufacturer = g_strdup ("");
  self->version = g_strdup ("");
  self->thread = module_thread_new (name, on_caller);
  return self;
}

static void
read_info (ImzalaModule *self)
{
  CK_RV rv;

  imzala_module_lock (self);
  rv = self->thread->functions->C_GetInfo (&self->info);
  imzala_module_unlock (self);

  if (rv == CKR_OK)
    {
      g_free (self->description);
      g_free (self->manufacturer);
      g_free (self->version);
      self->description = imzala_pkcs11_padded_to_utf8 (self->info.libraryDescription,
                                                        sizeof self->info.libraryDescription);
      self->manufacturer = imzala_pkcs11_padded_to_utf8 (self->info.manufacturerID,
                                                         sizeof self->info.manufacturerID);
      self->version = g_strdup_printf ("%u.%u",
                                       self->info.libraryVersion.major,
                                       self->info.libraryVersion.minor);
    }
  else
    {
      /* Only cosmetic: the module still works without its description. */
      g_debug ("C_GetInfo of %s: %s", self->name, p11_kit_strerror (rv));
      memset (&self->info, 0, sizeof self->info);
    }
}

void
imzala_module_take_managed (ImzalaModule     *self,
                            CK_FUNCTION_LIST *functions)
{
  g_return_if_fail (IMZALA_IS_MODULE (self));
  g_return_if_fail (functions != NULL);
  g_return_if_fail (self->thread->functions == NULL);
  g_return_if_fail (imzala_module_is_current_thread (self));

  self->thread->functions = functions;
  self->thread->unmanaged = FALSE;
  read_info (self);
}

void
imzala_module_take_unmanaged (ImzalaModule     *self,
                              gpointer          dl_handle,
                              CK_FUNCTION_LIST *functions,
                              gboolean          finalize)
{
  g_return_if_fail (IMZALA_IS_MODULE (self));
  g_return_if_fail (functions != NULL);
  g_return_if_fail (self->thread->functions == NULL);
  g_return_if_fail (imzala_module_is_current_thread (self));

  self->thread->functions = functions;
  self->thread->unmanaged = TRUE;
  self->thread->finalize = finalize;
  self->thread->dl_handle = dl_handle;
  read_info (self);
}

CK_FUNCTION_LIST *
imzala_module_get_functions (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);

  /* A call from any other thread is the bug this thread exists to prevent
   * (tests run with fatal warnings, so it fails them). */
  if (!imzala_module_is_current_thread (self))
    g_warning ("PKCS#11 module %s used outside its thread", self->name);
  return self->thread->functions;
}

const CK_INFO *
imzala_module_get_info (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return &self->info;
}

void
imzala_module_lock (ImzalaModule *self)
{
  g_rec_mutex_lock (&self->lock);
}

void
imzala_module_unlock (ImzalaModule *self)
{
  g_rec_mutex_unlock (&self->lock);
}

/* ---- The module's thread ---- */

gboolean
imzala_module_is_current_thread (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), FALSE);
  return module_thread_is_current (self->thread);
}

static void
set_closed_error (ImzalaModule  *self,
                  GError       **error)
{
  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
               _("The PKCS#11 module “%s” has been closed."), self->name);
}

void
imzala_module_run_task (ImzalaModule    *self,
                        GTask           *task,
                        GTaskThreadFunc  task_func)
{
  WorkItem *item;

  g_return_if_fail (IMZALA_IS_MODULE (self));
  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (task_func != NULL);

  item = g_new0 (WorkItem, 1);
  item->task = g_object_ref (task);
  item->task_func = task_func;
  item->module = g_object_ref (self);
  if (!module_thread_push (self->thread, item))
    {
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                               _("The PKCS#11 module “%s” has been closed."), self->name);
      g_object_unref (item->task);
      g_object_unref (item->module);
      g_free (item);
    }
}

gboolean
imzala_module_call (ImzalaModule      *self,
                    ImzalaModuleFunc   func,
                    gpointer           user_data,
                    GError           **error)
{
  GMutex mutex;
  GCond cond;
  WorkItem item = { 0 };

  g_return_val_if_fail (IMZALA_IS_MODULE (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  /* Already on the module's own thread (an item's call of its own): at
   * once. A module called on its caller's thread goes through the queue,
   * which runs the item right away too, unless the module was closed: its
   * first call is the load, made before it has functions. */
  if (!self->thread->on_caller && imzala_module_is_current_thread (self))
    {
      if (self->thread->functions == NULL)
        {
          set_closed_error (self, error);
          return FALSE;
        }
      return func (user_data, error);
    }

  g_mutex_init (&mutex);
  g_cond_init (&cond);
  item.func = func;
  item.user_data = user_data;
  item.error = error;
  item.mutex = &mutex;
  item.cond = &cond;

  if (!module_thread_push (self->thread, &item))
    {
      set_closed_error (self, error);
      item.result = FALSE;
    }
  else
    {
      g_mutex_lock (&mutex);
      while (!item.done)
        g_cond_wait (&cond, &mutex);
      g_mutex_unlock (&mutex);
    }

  g_mutex_clear (&mutex);
  g_cond_clear (&cond);
  return item.result;
}

gboolean
imzala_module_is_loaded (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), FALSE);
  return self->thread->functions != NULL;
}

void
imzala_module_close (ImzalaModule *self)
{
  g_return_if_fail (IMZALA_IS_MODULE (self));
  module_thread_close (self->thread);
}

void
imzala_module_close_all (void)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new_with_free_func ((GDestroyNotify) module_thread_unref);

  g_mutex_lock (&all_threads_mutex);
  for (guint i = 0; all_threads != NULL && i < all_threads->len; i++)
    g_ptr_array_add (threads, module_thread_ref (g_ptr_array_index (all_threads, i)));
  g_mutex_unlock (&all_threads_mutex);

  for (guint i = 0; i < threads->len; i++)
    module_thread_close (g_ptr_array_index (threads, i));
}

/* ---- Certificates read once per card insertion ----
 *
 * Every refresh of the token list (a card event, the Cards page, each job)
 * lists the tokens again; reading every certificate of every token each time
 * costs a fragile card dozens of calls. C_GetSlotList, C_GetSlotInfo and
 * C_GetTokenInfo still run on every listing: a slot missing from the list
 * forgets its card, and a token whose information names another card (label,
 * manufacturer, model, serial, versions) is read afresh. The certificate
 * objects themselves are shared by the tokens of successive listings, so a
 * certificate chosen on one listing is found on the next. */

static char *
token_identity (const CK_TOKEN_INFO *info)
{
  return g_strdup_printf ("%.*s|%.*s|%.*s|%.*s|%u.%u|%u.%u",
                          (int) sizeof info->label, (const char *) info->label,
                          (int) sizeof info->manufacturerID, (const char *) info->manufacturerID,
                          (int) sizeof info->model, (const char *) info->model,
                          (int) sizeof info->serialNumber, (const char *) info->serialNumber,
                          info->hardwareVersion.major, info->hardwareVersion.minor,
                          info->firmwareVersion.major, info->firmwareVersion.minor);
}

static gint
find_cached (ImzalaModule *self,
             CK_SLOT_ID    slot)
{
  for (guint i = 0; i < self->certificate_cache->len; i++)
    {
      CachedToken *cached = g_ptr_array_index (self->certificate_cache, i);

      if (cached->slot == slot)
        return (gint) i;
    }
  return -1;
}

GPtrArray *
imzala_module_lookup_certificates (ImzalaModule        *self,
                                   CK_SLOT_ID           slot,
                                   const CK_TOKEN_INFO *info)
{
  g_autofree char *identity = NULL;
  CachedToken *cached;
  gint index;

  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  g_return_val_if_fail (imzala_module_is_current_thread (self), NULL);

  index = find_cached (self, slot);
  if (index < 0)
    return NULL;

  cached = g_ptr_array_index (self->certificate_cache, index);
  identity = token_identity (info);
  if (!g_str_equal (identity, cached->identity))
    {
      /* Another card in the same slot. */
      g_ptr_array_remove_index_fast (self->certificate_cache, index);
      return NULL;
    }
  return cached->certificates;
}

void
imzala_module_store_certificates (ImzalaModule        *self,
                                  CK_SLOT_ID           slot,
                                  const CK_TOKEN_INFO *info,
                                  GPtrArray           *certificates)
{
  CachedToken *cached;

  g_return_if_fail (IMZALA_IS_MODULE (self));
  g_return_if_fail (imzala_module_is_current_thread (self));

  imzala_module_forget_slot (self, slot);

  cached = g_new0 (CachedToken, 1);
  cached->slot = slot;
  cached->identity = token_identity (info);
  cached->certificates = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < certificates->len; i++)
    g_ptr_array_add (cached->certificates, g_object_ref (g_ptr_array_index (certificates, i)));
  g_ptr_array_add (self->certificate_cache, cached);
}

void
imzala_module_forget_slot (ImzalaModule *self,
                           CK_SLOT_ID    slot)
{
  gint index;

  g_return_if_fail (IMZALA_IS_MODULE (self));

  index = find_cached (self, slot);
  if (index >= 0)
    g_ptr_array_remove_index_fast (self->certificate_cache, index);
}

void
imzala_module_forget_absent_slots (ImzalaModule     *self,
                                   const CK_SLOT_ID *present,
                                   gsize             n_present)
{
  g_return_if_fail (IMZALA_IS_MODULE (self));

  for (guint i = self->certificate_cache->len; i > 0; i--)
    {
      CachedToken *cached = g_ptr_array_index (self->certificate_cache, i - 1);
      gboolean found = FALSE;

      for (gsize j = 0; j < n_present && !found; j++)
        found = present[j] == cached->slot;
      if (!found)
        g_ptr_array_remove_index_fast (self->certificate_cache, i - 1);
    }

  /* A logged-in session on a card that was pulled out ended with it. */
  for (guint i = self->login_sessions->len; i > 0; i--)
    {
      LoginSession *login = &g_array_index (self->login_sessions, LoginSession, i - 1);
      gboolean found = FALSE;

      for (gsize j = 0; j < n_present && !found; j++)
        found = present[j] == login->slot;
      if (!found)
        {
          CK_SESSION_HANDLE session;

          imzala_module_take_login_session (self, login->slot, &session);
          imzala_module_get_functions (self)->C_CloseSession (session);
        }
    }
}

/* ---- Logged-in sessions (imzala-token-session.c) ---- */

static gint
find_login_session (ImzalaModule *self,
                    CK_SLOT_ID    slot)
{
  for (guint i = 0; i < self->login_sessions->len; i++)
    if (g_array_index (self->login_sessions, LoginSession, i).slot == slot)
      return i;
  return -1;
}

void
imzala_module_keep_login_session (ImzalaModule      *self,
                                  CK_SLOT_ID         slot,
                                  CK_SESSION_HANDLE  session)
{
  LoginSession login = { slot, session };

  g_return_if_fail (IMZALA_IS_MODULE (self));
  g_return_if_fail (imzala_module_is_current_thread (self));
  g_return_if_fail (find_login_session (self, slot) < 0);

  g_array_append_val (self->login_sessions, login);
}

gboolean
imzala_module_lookup_login_session (ImzalaModule      *self,
                                    CK_SLOT_ID         slot,
                                    CK_SESSION_HANDLE *session)
{
  gint index;

  g_return_val_if_fail (IMZALA_IS_MODULE (self), FALSE);
  g_return_val_if_fail (imzala_module_is_current_thread (self), FALSE);

  index = find_login_session (self, slot);
  if (index < 0)
    return FALSE;
  *session = g_array_index (self->login_sessions, LoginSession, index).session;
  return TRUE;
}

gboolean
imzala_module_take_login_session (ImzalaModule      *self,
                                  CK_SLOT_ID         slot,
                                  CK_SESSION_HANDLE *session)
{
  gint index;

  g_return_val_if_fail (IMZALA_IS_MODULE (self), FALSE);
  g_return_val_if_fail (imzala_module_is_current_thread (self), FALSE);

  index = find_login_session (self, slot);
  if (index < 0)
    return FALSE;
  *session = g_array_index (self->login_sessions, LoginSession, index).session;
  g_array_remove_index_fast (self->login_sessions, index);
  return TRUE;
}

/* ---- Getters ---- */

const char *
imzala_module_get_name (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->name;
}

const char *
imzala_module_get_path (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->path;
}

const char *
imzala_module_get_description (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->description;
}

const char *
imzala_module_get_manufacturer (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->manufacturer;
}

const char *
imzala_module_get_version (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->version;
}

gboolean
imzala_module_is_unmanaged (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), FALSE);
  return self->thread->unmanaged;
}
