#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-module-set-private.h"
#include "imzala-sanitizers.h"
#include "imzala-cancel-private.h"

/* Where the vendor module of Turkish NES cards (AKİS) is installed by its
 * packages, newest layout first. Loaded by themselves when present, so that
 * nobody has to type a module path; silently skipped when absent. */
static const char *const known_vendor_modules[] = {
  "/opt/Akia/libakisp11.so",
  "/usr/lib/x86_64-linux-gnu/libakisp11.so",
  "/usr/lib/libakisp11.so",
  "/usr/local/lib/libakisp11.so",
};

G_DEFINE_FINAL_TYPE (ImzalaModuleSet, imzala_module_set, G_TYPE_OBJECT)

/* A module's own libraries come first when its symbols are bound
 * (RTLD_DEEPBIND). Vendor modules carry libraries of their own, an OpenSSL
 * or a libstdc++ of another version among them; bound the ordinary way, a
 * symbol of theirs is taken from whichever library of this program names it
 * first. Binding also costs less: each of a module's symbols (SoftHSM and
 * its libstdc++ bind some 10,000) is otherwise looked up through every
 * library this program maps (16 for imzala-cli) before the module's own.
 * The sanitizers' runtimes refuse RTLD_DEEPBIND, as it would pass their
 * interceptors by; their builds bind the ordinary way. */
#ifdef IMZALA_SANITIZER_RUNTIME
# define MODULE_DLOPEN_SCOPE RTLD_LOCAL
#else
# define MODULE_DLOPEN_SCOPE (RTLD_LOCAL | RTLD_DEEPBIND)
#endif

/* Whether the file at @path is a shared object of this system's class that
 * binds its own symbols when loaded (linked with -z now: DT_BIND_NOW,
 * DF_BIND_NOW or DF_1_NOW in its dynamic section). Only the ELF header, the
 * program headers and the dynamic section are read. */
static gboolean
binds_itself_at_load (const char *path)
{
  ElfW(Ehdr) header;
  ElfW(Phdr) program[64];
  ElfW(Dyn) dynamic[128];
  gboolean now = FALSE;
  gsize n_dynamic = 0;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  if (pread (fd, &header, sizeof header, 0) != (gssize) sizeof header
      || memcmp (header.e_ident, ELFMAG, SELFMAG) != 0
      || header.e_ident[EI_CLASS] != (sizeof (gpointer) == 8 ? ELFCLASS64 : ELFCLASS32)
      || header.e_phentsize != sizeof (ElfW(Phdr))
      || header.e_phnum == 0 || header.e_phnum > G_N_ELEMENTS (program)
      || pread (fd, program, header.e_phnum * sizeof (ElfW(Phdr)), (off_t) header.e_phoff)
         != (gssize) (header.e_phnum * sizeof (ElfW(Phdr))))
    {
      close (fd);
      return FALSE;
    }
  for (guint i = 0; i < header.e_phnum; i++)
    if (program[i].p_type == PT_DYNAMIC)
      {
        gssize got = pread (fd, dynamic, MIN (sizeof dynamic, program[i].p_filesz),
                            (off_t) program[i].p_offset);

        n_dynamic = got > 0 ? (gsize) got / sizeof (ElfW(Dyn)) : 0;
        break;
      }
  close (fd);

  for (gsize i = 0; i < n_dynamic && dynamic[i].d_tag != DT_NULL; i++)
    if (dynamic[i].d_tag == DT_BIND_NOW
        || (dynamic[i].d_tag == DT_FLAGS && (dynamic[i].d_un.d_val & DF_BIND_NOW))
        || (dynamic[i].d_tag == DT_FLAGS_1 && (dynamic[i].d_un.d_val & DF_1_NOW)))
      now = TRUE;
  return now;
}

/* How a module file is opened. A module that binds its own symbols at
 * load, as Debian builds SoftHSM, is opened RTLD_LAZY: then only the
 * functions of the libraries it brings that were not linked -z now (SoftHSM's
 * libstdc++: some 950 lookups a signature never uses, 0.2 to 0.5 ms of each
 * command, issue 12) are bound when first called, as libp11 and OpenSC open
 * every module. Any other module is opened RTLD_NOW, so that a module
 * missing a function of its own fails to load, with a message, instead of
 * stopping the program at that call. */
static int
module_dlopen_flags (const char *path)
{
  return MODULE_DLOPEN_SCOPE | (binds_itself_at_load (path) ? RTLD_LAZY : RTLD_NOW);
}

static void
imzala_module_load_error_free (ImzalaModuleLoadError *load_error)
{
  g_free (load_error->name);
  g_free (load_error->path);
  g_clear_error (&load_error->error);
  g_free (load_error);
}

static void
imzala_module_set_finalize (GObject *object)
{
  ImzalaModuleSet *self = IMZALA_MODULE_SET (object);

  g_ptr_array_unref (self->paths);
  g_ptr_array_unref (self->modules);
  g_ptr_array_unref (self->load_errors);
  g_hash_table_unref (self->loaded_files);
  g_free (self->only_fingerprint);
  g_free (self->only_uri);

  G_OBJECT_CLASS (imzala_module_set_parent_class)->finalize (object);
}

static void
imzala_module_set_class_init (ImzalaModuleSetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_module_set_finalize;
}

static void
imzala_module_set_init (ImzalaModuleSet *self)
{
  self->use_registered = TRUE;
  self->paths = g_ptr_array_new_with_free_func (g_free);
  self->modules = g_ptr_array_new_with_free_func (g_object_unref);
  self->load_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_module_load_error_free);
  self->loaded_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

ImzalaModuleSet *
imzala_module_set_new (void)
{
  return g_object_new (IMZALA_TYPE_MODULE_SET, NULL);
}

void
imzala_module_set_set_use_registered (ImzalaModuleSet *self,
                                      gboolean         use_registered)
{
  g_return_if_fail (IMZALA_IS_MODULE_SET (self));
  g_return_if_fail (!self->load_started);

  self->use_registered = !!use_registered;
}

void
imzala_module_set_set_single_thread (ImzalaModuleSet *self,
                                     gboolean         single_thread)
{
  g_return_if_fail (IMZALA_IS_MODULE_SET (self));
  g_return_if_fail (!self->load_started);

  self->single_thread = !!single_thread;
}

void
imzala_module_set_add_module_path (ImzalaModuleSet *self,
                                   const char      *path)
{
  g_return_if_fail (IMZALA_IS_MODULE_SET (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (!self->load_started);

  g_ptr_array_add (self->paths, g_strdup (path));
}

GPtrArray *
imzala_module_set_get_modules (ImzalaModuleSet *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE_SET (self), NULL);
  return self->modules;
}

GPtrArray *
imzala_module_set_get_load_errors (ImzalaModuleSet *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE_SET (self), NULL);
  return self->load_errors;
}

/* ---- Loading ---- */

static void
add_load_error (ImzalaModuleSet *self,
                const char      *name,
                const char      *path,
                GError          *error)
{
  ImzalaModuleLoadError *load_error = g_new0 (ImzalaModuleLoadError, 1);

  load_error->name = g_strdup (name);
  load_error->path = g_strdup (path);
  load_error->error = error;
  g_ptr_array_add (self->load_errors, load_error);
}

/* The same library reached through two names (a symlink, the p11-kit
 * registration and a path) must be initialised only once: a second
 * C_Initialize in one process is an error for most modules. */
static char *
canonical_path (const char *path)
{
  char *real = realpath (path, NULL);
  char *copy;

  if (real == NULL)
    return g_canonicalize_filename (path, NULL);
  copy = g_strdup (real);
  free (real);
  return copy;
}

static gboolean load_unmanaged (ImzalaModule  *module,
                                const char    *path,
                                GError       **error);

typedef struct
{
  ImzalaModule *module;
  CK_FUNCTION_LIST *functions;
  const char *name;
  const char *filename;
} RegisteredLoad;

/* On the module's thread: C_Initialize of a registered module, through
 * p11-kit, or unmanaged when it refuses the locking arguments. */
static gboolean
initialize_registered_cb (gpointer   user_data,
                          GError   **error)
{
  RegisteredLoad *load = user_data;
  CK_RV rv;

  rv = p11_kit_module_initialize (load->functions);
  if (rv == CKR_OK)
    {
      g_debug ("Loaded registered module %s (%s)", load->name, load->filename);
      imzala_module_take_managed (load->module, load->functions);
      return TRUE;
    }

  g_debug ("C_Initialize of registered module %s (%s): %s",
           load->name, load->filename, p11_kit_strerror (rv));
  p11_kit_module_release (load->functions);

  /* A vendor module registered with p11-kit can refuse the locking
   * arguments just as well as one named by path. */
  if ((rv == CKR_ARGUMENTS_BAD || rv == CKR_CANT_LOCK) && load->filename != NULL
      && load_unmanaged (load->module, load->filename, NULL))
    return TRUE;

  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD,
               _("The PKCS#11 module “%s” could not be started."),
               load->filename != NULL ? load->filename : load->name);
  return FALSE;
}

static void
load_registered (ImzalaModuleSet *self,
                 GCancellable    *cancellable)
{
  CK_FUNCTION_LIST **list;

  /* Registered modules that cannot even be loaded are skipped by p11-kit
   * itself (they are not critical); it says why on stderr. Loading calls
   * no module function but C_GetFunctionList; C_Initialize and everything
   * after it happen on each module's own thread. */
  list = p11_kit_modules_load (NULL, 0);
  if (list == NULL)
    {
      g_debug ("p11_kit_modules_load: %s", p11_kit_message ());
      return;
    }

  for (gsize i = 0; list[i] != NULL; i++)
    {
      CK_FUNCTION_LIST *module = list[i];
      g_autofree char *name = p11_kit_module_get_name (module);
      g_autofree char *filename = p11_kit_module_get_filename (module);
      g_autofree char *trust_policy = p11_kit_config_option (module, "trust-policy");
      g_autofree char *real = NULL;
      g_autoptr(ImzalaModule) loaded = NULL;
      GError *error = NULL;
      RegisteredLoad load;

      /* Trust modules hold CA lists for TLS, never a card. */
      if (g_strcmp0 (trust_policy, "yes") == 0 || imzala_is_cancelled (cancellable))
        {
          p11_kit_module_release (module);
          continue;
        }

      real = filename != NULL ? canonical_path (filename) : NULL;
      if (real != NULL && g_hash_table_contains (self->loaded_files, real))
        {
          p11_kit_module_release (module);
          continue;
        }

      loaded = imzala_module_new (name, filename, self->single_thread);
      load.module = loaded;
      load.functions = module;
      load.name = name;
      load.filename = filename;
      if (!imzala_module_call (loaded, initialize_registered_cb, &load, &error))
        {
          add_load_error (self, name, filename, error);
          continue;
        }

      if (real != NULL)
        g_hash_table_add (self->loaded_files, g_steal_pointer (&real));
      g_ptr_array_add (self->modules, g_steal_pointer (&loaded));
    }

  /* The modules themselves now belong to ImzalaModule objects or were
   * released above; only the array is left. */
  free (list);
}

typedef CK_RV (*GetFunctionListFunc) (CK_FUNCTION_LIST_PTR_PTR list);

/* Some vendor modules (some libakisp11 builds) answer CKR_ARGUMENTS_BAD to
 * the locking arguments p11-kit always passes to C_Initialize. They work with
 * C_Initialize(NULL), which promises the module that the application does not
 * call it from several threads at once: the module's own thread keeps that
 * promise. Runs on that thread. */
static gboolean
load_unmanaged (ImzalaModule  *module,
                const char    *path,
                GError       **error)
{
  GetFunctionListFunc get_function_list;
  CK_FUNCTION_LIST *functions = NULL;
  gboolean finalize = TRUE;
  gpointer handle;
  CK_RV rv;

  handle = dlopen (path, module_dlopen_flags (path));
  if (handle == NULL)
    {
      g_debug ("dlopen %s: %s", path, dlerror ());
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD,
                   _("The PKCS#11 module “%s” could not be opened. It may be damaged or made for another system."),
                   path);
      return FALSE;
    }

  get_function_list = (GetFunctionListFunc) dlsym (handle, "C_GetFunctionList");
  if (get_function_list == NULL
      || (rv = get_function_list (&functions)) != CKR_OK
      || functions == NULL)
    {
      g_debug ("C_GetFunctionList of %s failed", path);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD,
                   _("The file “%s” is not a PKCS#11 module."), path);
      dlclose (handle);
      return FALSE;
    }

  rv = functions->C_Initialize (NULL);
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
    {
      /* Someone else in this process initialised it; finalising it would
       * pull it from under them. */
      finalize = FALSE;
    }
  else if (rv != CKR_OK)
    {
      g_debug ("C_Initialize(NULL) of %s: %s", path, p11_kit_strerror (rv));
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD,
                   _("The PKCS#11 module “%s” could not be started."), path);
      dlclose (handle);
      return FALSE;
    }

  g_debug ("Loaded %s unmanaged with C_Initialize(NULL)", path);
  imzala_module_take_unmanaged (module, handle, functions, finalize);
  return TRUE;
}

typedef struct
{
  ImzalaModule *module;
  const char *path;
} PathLoad;

/* On the module's thread: p11-kit loads and initialises the file, or it is
 * loaded unmanaged when it refuses the locking arguments. */
static gboolean
load_path_cb (gpointer   user_data,
              GError   **error)
{
  PathLoad *load = user_data;
  CK_FUNCTION_LIST *module;
  gpointer bound;
  CK_RV rv;

  /* p11-kit opens the file without RTLD_DEEPBIND; an object is bound once,
   * by its first dlopen(), so open it here first and let p11-kit's take the
   * same object. A file that cannot be opened is left to p11-kit's error. */
  bound = dlopen (load->path, module_dlopen_flags (load->path));
  module = p11_kit_module_load (load->path, 0);
  if (bound != NULL)
    dlclose (bound);
  if (module == NULL)
    {
      g_debug ("p11_kit_module_load %s: %s", load->path, p11_kit_message ());
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD,
                   _("The PKCS#11 module “%s” could not be opened. It may be damaged or made for another system."),
                   load->path);
      return FALSE;
    }

  rv = p11_kit_module_initialize (module);
  if (rv == CKR_OK)
    {
      imzala_module_take_managed (load->module, module);
      return TRUE;
    }

  p11_kit_module_release (module);
  g_debug ("C_Initialize of %s through p11-kit: %s", load->path, p11_kit_strerror (rv));
  if (rv == CKR_ARGUMENTS_BAD || rv == CKR_CANT_LOCK)
    return load_unmanaged (load->module, load->path, error);

  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD,
               _("The PKCS#11 module “%s” could not be started."), load->path);
  return FALSE;
}

static void
load_path (ImzalaModuleSet *self,
           const char      *path,
           gboolean         report_missing)
{
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *real = NULL;
  g_autoptr(ImzalaModule) loaded = NULL;
  GError *error = NULL;
  PathLoad load;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (report_missing)
        add_load_error (self, name, path,
                        g_error_new (IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD,
                                     _("The PKCS#11 module “%s” does not exist."), path));
      return;
    }

  real = canonical_path (path);
  if (g_hash_table_contains (self->loaded_files, real))
    {
      g_debug ("%s is already loaded", path);
      return;
    }

  loaded = imzala_module_new (name, path, self->single_thread);
  load.module = loaded;
  load.path = path;
  if (!imzala_module_call (loaded, load_path_cb, &load, &error))
    {
      add_load_error (self, name, path, error);
      return;
    }

  g_hash_table_add (self->loaded_files, g_steal_pointer (&real));
  g_ptr_array_add (self->modules, g_steal_pointer (&loaded));
}

gboolean
imzala_module_set_load (ImzalaModuleSet *self,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_return_val_if_fail (IMZALA_IS_MODULE_SET (self), FALSE);
  g_return_val_if_fail (!self->load_started, FALSE);

  self->load_started = TRUE;

  if (self->use_registered)
    load_registered (self, cancellable);

  for (guint i = 0; i < self->paths->len; i++)
    {
      if (imzala_is_cancelled (cancellable))
        break;
      load_path (self, g_ptr_array_index (self->paths, i), TRUE);
    }

  if (self->use_registered)
    for (gsize i = 0; i < G_N_ELEMENTS (known_vendor_modules); i++)
      {
        if (imzala_is_cancelled (cancellable))
          break;
        load_path (self, known_vendor_modules[i], FALSE);
      }

  if (imzala_cancelled (cancellable, error))
    return FALSE;

  if (self->modules->len == 0)
    {
      if (self->load_errors->len == 1)
        {
          ImzalaModuleLoadError *only = g_ptr_array_index (self->load_errors, 0);

          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_MODULE,
                               only->error->message);
        }
      else
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_MODULE,
                               _("No PKCS#11 module could be loaded, so no card can be used. Install the driver of your card."));
        }
      return FALSE;
    }

  return TRUE;
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;

  if (imzala_module_set_load (source_object, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
imzala_module_set_load_async (ImzalaModuleSet     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMZALA_IS_MODULE_SET (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_module_set_load_async);
  /* A single-thread set loads on its caller's thread, the modules' one. */
  if (self->single_thread)
    load_thread (task, self, NULL, cancellable);
  else
    g_task_run_in_thread (task, load_thread);
}

gboolean
imzala_module_set_load_finish (ImzalaModuleSet  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
imzala_module_set_close (ImzalaModuleSet *self)
{
  g_return_if_fail (IMZALA_IS_MODULE_SET (self));

  for (guint i = 0; i < self->modules->len; i++)
    imzala_module_close (g_ptr_array_index (self->modules, i));
}
