// mesos-launcher: starts a real Mesos master, agent, or local cluster from
// the libmesos.so extracted from the PyPI `mesos.scheduler` builds.
//
// No Mesos headers are used. Every Mesos function is declared by its mangled
// name (an asm label on an extern declaration), with `void*` for `this` and for
// hidden return pointers, and Mesos objects live in generously sized zeroed
// buffers. The per-version differences are selected at build time with:
//
//   MESOS_VERSION_STRING         "1.11.0"
//   MESOS_AGENT_ABI              104, 105, 107, 108, 109, 110 or 111 (see below)
//   MESOS_SLAVE_FLAGSBASE_OFFSET offset of the virtual FlagsBase base inside
//                                slave::Flags, derived from the disassembly of
//                                slave::Flags::Flags() by the Rust build code
//   MESOS_MASTER_HA_ABI          the allocator entry point of the HA master:
//                                0 (no HA master in this build), 107
//                                (1.4-1.8: MesosAllocator<...3 sorters>::create()),
//                                106 (the 1.6.1 build exports only the base-object
//                                constructor MesosAllocator<...3 sorters>()), or
//                                110 (1.9+: MesosAllocator<...2 sorters>())
//   MESOS_MASTER_FLAGSBASE_OFFSET the same for master::Flags (0 without HA)
//
// The build checks every mangled name this file references against the
// version's exported symbols before linking (src/images/build.rs).
//
// Modes (flags come from MESOS_* environment variables, as for the real
// binaries):
//   mesos-launcher master          local::launch with no agents; with
//                                  MESOS_ZK set, the same as ha-master
//   mesos-launcher ha-master       a master wired like mesos-master: replicated
//                                  log over ZooKeeper (MESOS_ZK, MESOS_QUORUM),
//                                  ZooKeeper leader election and detection
//   mesos-launcher agent           one agent, in this process only
//                                  (MESOS_LAUNCHER_DIR defaults to the
//                                  launcher's own directory)
//   mesos-launcher local [N]       master + N agents (N also from
//                                  MESOS_NUM_AGENTS / MESOS_NUM_SLAVES)
//   mesos-launcher version         print the Mesos version of this build
//   mesos-launcher selfcheck       verify the layout facts this build relies on
//                                  (run by the build; starts nothing)
//
// SIGTERM/SIGINT: a master (or local cluster) calls local::shutdown() and
// _exit(0); an agent _exit(0)s at once, leaving its checkpoints for the next
// agent process (possibly another Mesos version) to recover. An HA master
// _exit(0)s like a killed mesos-master (its ZooKeeper session expires later);
// SIGUSR1 stops it gracefully (master terminated, then its ZooKeeper candidacy
// withdrawn, so the next leader is elected at once). Other modes treat SIGUSR1
// as SIGTERM.

#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#ifndef MESOS_VERSION_STRING
#error "MESOS_VERSION_STRING must be defined by the build"
#endif
#ifndef MESOS_AGENT_ABI
#error "MESOS_AGENT_ABI must be defined by the build"
#endif
#ifndef MESOS_SLAVE_FLAGSBASE_OFFSET
#error "MESOS_SLAVE_FLAGSBASE_OFFSET must be derived by the build"
#endif
#ifndef MESOS_MASTER_HA_ABI
#define MESOS_MASTER_HA_ABI 0
#endif
#ifndef MESOS_MASTER_FLAGSBASE_OFFSET
#define MESOS_MASTER_FLAGSBASE_OFFSET 0
#endif
#ifndef MESOS_MASTER_HA_VERSIONS
#define MESOS_MASTER_HA_VERSIONS "(none)"
#endif

namespace {

// ---------------------------------------------------------------------------
// stout value layouts (GCC >= 5, __cxx11 strings)

// Option<std::string>: {int state (SOME=0, NONE=1); std::string value}.
struct OptString {
  int state;
  std::string value;
  static OptString some(const char* s) { return OptString{0, std::string(s)}; }
  static OptString none() { return OptString{1, std::string()}; }
};

// Option<T*>: {int state; T* value}.
struct OptPtr {
  int state;
  void* value;
};

// Option<Duration>: {int state; int64 nanoseconds}.
struct OptDuration {
  int state;
  int64_t nanos;
};

// process::Owned<T>: a std::shared_ptr (two pointers); empty is all zeroes.
struct OwnedEmpty {
  void* ptr;
  void* ctrl;
};

// Buffers for results returned through hidden pointers and for opaque objects.
struct alignas(16) Buffer {
  unsigned char bytes[512];
};

void* alloc_object(size_t size) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, size) != 0) {
    fprintf(stderr, "mesos-launcher: out of memory\n");
    _exit(1);
  }
  memset(p, 0, size);
  return p;
}

// Try<T*>: Option<T*> at 0, Option<Error> state at 16, message at 24.
void* try_ptr_or_die(const Buffer& ret, const char* what) {
  int error_state = *reinterpret_cast<const int*>(ret.bytes + 16);
  if (error_state == 0) {
    const std::string* message =
        reinterpret_cast<const std::string*>(ret.bytes + 24);
    fprintf(stderr, "mesos-launcher: %s failed: %s\n", what, message->c_str());
    _exit(1);
  }
  return *reinterpret_cast<void* const*>(ret.bytes + 8);
}

// Try<Warnings>: error state at 32, message at 40.
void try_warnings_or_die(const Buffer& ret, const char* what) {
  int error_state = *reinterpret_cast<const int*>(ret.bytes + 32);
  if (error_state == 0) {
    const std::string* message =
        reinterpret_cast<const std::string*>(ret.bytes + 40);
    fprintf(stderr, "mesos-launcher: %s: %s\n", what, message->c_str());
    _exit(1);
  }
}

// The virtual ProcessBase base of a libprocess process object: its offset is
// the first virtual-base offset of the primary vtable (vptr[-3]).
void* process_base(void* object) {
  intptr_t* vptr = *reinterpret_cast<intptr_t**>(object);
  return static_cast<char*>(object) + vptr[-3];
}

}  // namespace

// ---------------------------------------------------------------------------
// Modules and hooks (../shared/modules.md). These entry points are templates or
// return stout values by value, so they are declared as C++ (not by asm label):
// the compiler then mangles them exactly as libmesos exports them. Only the
// names matter; the value types are opaque buffers big enough for the real ones,
// with a non-trivial destructor so that they are returned through a hidden
// pointer as the real ones are.

struct Nothing {};
class Error;

template <typename T, typename E = Error>
class Try {
 public:
  Try() {}
  ~Try() {}
  // Try<Nothing>: Option<Nothing> state at 0, Option<Error> state at 8, its
  // message at 16. Try<T*>: Option<T*> at 0, Option<Error> state at 16, message at 24.
  alignas(16) unsigned char bytes[256];
};

template <typename T>
class Option {
 public:
  // NONE: state 1.
  int state = 1;
  alignas(16) unsigned char bytes[256];
};

namespace mesos {
class Parameters;
namespace modules {
class Anonymous;
class ModuleManager {
 public:
  static Try<Nothing> load(const std::string& modulesDir);
  template <typename Kind>
  static std::vector<std::string> find();
  template <typename T>
  static Try<T*> create(const std::string& moduleName,
                        const Option<mesos::Parameters>& params);
};
}  // namespace modules
namespace internal {
class HookManager {
 public:
  static Try<Nothing> initialize(const std::string& hookList);
};
}  // namespace internal
}  // namespace mesos

// ---------------------------------------------------------------------------
// Mesos entry points, by mangled name.

#define CXX_STRING "NSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE"

// process::initialize(const Option<string>&, const Option<string>&, const Option<string>&)
extern bool process_initialize(const OptString*, const OptString*, const OptString*)
    asm("_ZN7process10initializeERK6OptionI" CXX_STRING "ES9_S9_");
// UPID process::spawn(ProcessBase*, bool)
extern void process_spawn(void* ret_upid, void* process_base, bool manage)
    asm("_ZN7process5spawnEPNS_11ProcessBaseEb");
// bool process::wait(const UPID&, const Duration&)
extern bool process_wait(const void* upid, const int64_t* duration)
    asm("_ZN7process4waitERKNS_4UPIDERK8Duration");

extern void version_process_ctor(void* self)
    asm("_ZN5mesos8internal14VersionProcessC1Ev");

extern void local_flags_ctor(void* self)
    asm("_ZN5mesos8internal5local5FlagsC1Ev");
extern void local_launch(void* ret_pid, const void* flags, void* allocator)
    asm("_ZN5mesos8internal5local6launchERKNS1_5FlagsEPNS_9allocator9AllocatorE");
extern void local_shutdown()
    asm("_ZN5mesos8internal5local8shutdownEv");

extern void slave_flags_ctor(void* self)
    asm("_ZN5mesos8internal5slave5FlagsC1Ev");
// Try<Warnings> flags::FlagsBase::load(const string& prefix)
extern void flags_base_load(void* ret, void* self, const std::string* prefix)
    asm("_ZN5flags9FlagsBase4loadERK" CXX_STRING);

extern void fetcher_ctor(void* self, const void* flags)
    asm("_ZN5mesos8internal5slave7FetcherC1ERKNS1_5FlagsE");
extern void gc_ctor(void* self, const std::string* work_dir)
    asm("_ZN5mesos8internal5slave16GarbageCollectorC1ERK" CXX_STRING);
extern void secret_resolver_create(void* ret, const OptString* module)
    asm("_ZN5mesos14SecretResolver6createERK6OptionI" CXX_STRING "E");
extern void detector_create(void* ret, const OptString* master,
                            const OptString* zk, const OptDuration* timeout)
    asm("_ZN5mesos6master8detector14MasterDetector6createERK6OptionI" CXX_STRING
        "ESC_RKS3_I8DurationE");
extern void files_ctor(void* self, const OptString* auth_realm,
                       const OptPtr* authorizer)
    asm("_ZN5mesos8internal5FilesC1ERK6OptionI" CXX_STRING
        "ERKS2_IPNS_10AuthorizerEE");
extern void resource_estimator_create(void* ret, const OptString* module)
    asm("_ZN5mesos5slave17ResourceEstimator6createERK6OptionI" CXX_STRING "E");
extern void qos_controller_create(void* ret, const OptString* module)
    asm("_ZN5mesos5slave13QoSController6createERK6OptionI" CXX_STRING "E");

#if MESOS_AGENT_ABI == 104
extern void status_update_manager_ctor(void* self, const void* flags)
    asm("_ZN5mesos8internal5slave19StatusUpdateManagerC1ERKNS1_5FlagsE");
#else
extern void status_update_manager_ctor(void* self, const void* flags)
    asm("_ZN5mesos8internal5slave23TaskStatusUpdateManagerC1ERKNS1_5FlagsE");
#endif

// Containerizer::create(flags, local, fetcher, [gc 1.7+], secret resolver,
//   [VolumeGidManager* 1.8+], [PendingFutureTracker* 1.9+], [CSIServer* 1.11+])
#define CONTAINERIZER_CREATE \
  "_ZN5mesos8internal5slave13Containerizer6createERKNS1_5FlagsEbPNS1_7FetcherE"
#if MESOS_AGENT_ABI <= 105
extern void containerizer_create(void* ret, const void* flags, bool local,
                                 void* fetcher, void* secret_resolver)
    asm(CONTAINERIZER_CREATE "PNS_14SecretResolverE");
#elif MESOS_AGENT_ABI == 107
extern void containerizer_create(void* ret, const void* flags, bool local,
                                 void* fetcher, void* gc, void* secret_resolver)
    asm(CONTAINERIZER_CREATE "PNS1_16GarbageCollectorEPNS_14SecretResolverE");
#elif MESOS_AGENT_ABI == 108
extern void containerizer_create(void* ret, const void* flags, bool local,
                                 void* fetcher, void* gc, void* secret_resolver,
                                 void* volume_gid_manager)
    asm(CONTAINERIZER_CREATE
        "PNS1_16GarbageCollectorEPNS_14SecretResolverEPNS1_16VolumeGidManagerE");
#elif MESOS_AGENT_ABI == 109 || MESOS_AGENT_ABI == 110
extern void containerizer_create(void* ret, const void* flags, bool local,
                                 void* fetcher, void* gc, void* secret_resolver,
                                 void* volume_gid_manager, void* future_tracker)
    asm(CONTAINERIZER_CREATE
        "PNS1_16GarbageCollectorEPNS_14SecretResolverEPNS1_16VolumeGidManagerE"
        "PNS0_20PendingFutureTrackerE");
#elif MESOS_AGENT_ABI == 111
extern void containerizer_create(void* ret, const void* flags, bool local,
                                 void* fetcher, void* gc, void* secret_resolver,
                                 void* volume_gid_manager, void* future_tracker,
                                 void* csi_server)
    asm(CONTAINERIZER_CREATE
        "PNS1_16GarbageCollectorEPNS_14SecretResolverEPNS1_16VolumeGidManagerE"
        "PNS0_20PendingFutureTrackerEPNS1_9CSIServerE");
#else
#error "unknown MESOS_AGENT_ABI"
#endif

// Slave::Slave(id, flags, detector, containerizer, files, gc, status update
//   manager, resource estimator, qos controller, [SecretGenerator* 1.5+],
//   [VolumeGidManager* 1.8+], [PendingFutureTracker* 1.9+],
//   [Owned<CSIServer>&& 1.11+], [const Option<Socket<unix::Address>>& 1.10+],
//   const Option<Authorizer*>&)
#define SLAVE_CTOR                                                         \
  "_ZN5mesos8internal5slave5SlaveC1ERK" CXX_STRING                         \
  "RKNS1_5FlagsEPNS_6master8detector14MasterDetectorEPNS1_13ContainerizerE" \
  "PNS0_5FilesEPNS1_16GarbageCollectorE"
#if MESOS_AGENT_ABI == 104
extern void slave_ctor(void* self, const std::string* id, const void* flags,
                       void* detector, void* containerizer, void* files,
                       void* gc, void* status_update_manager,
                       void* resource_estimator, void* qos_controller,
                       const OptPtr* authorizer)
    asm(SLAVE_CTOR "PNS1_19StatusUpdateManagerEPNS_5slave17ResourceEstimatorE"
                   "PNSQ_13QoSControllerERK6OptionIPNS_10AuthorizerEE");
#elif MESOS_AGENT_ABI == 105 || MESOS_AGENT_ABI == 107
extern void slave_ctor(void* self, const std::string* id, const void* flags,
                       void* detector, void* containerizer, void* files,
                       void* gc, void* status_update_manager,
                       void* resource_estimator, void* qos_controller,
                       void* secret_generator, const OptPtr* authorizer)
    asm(SLAVE_CTOR "PNS1_23TaskStatusUpdateManagerEPNS_5slave17ResourceEstimatorE"
                   "PNSQ_13QoSControllerEPNS_15SecretGeneratorE"
                   "RK6OptionIPNS_10AuthorizerEE");
#elif MESOS_AGENT_ABI == 108
extern void slave_ctor(void* self, const std::string* id, const void* flags,
                       void* detector, void* containerizer, void* files,
                       void* gc, void* status_update_manager,
                       void* resource_estimator, void* qos_controller,
                       void* secret_generator, void* volume_gid_manager,
                       const OptPtr* authorizer)
    asm(SLAVE_CTOR "PNS1_23TaskStatusUpdateManagerEPNS_5slave17ResourceEstimatorE"
                   "PNSQ_13QoSControllerEPNS_15SecretGeneratorE"
                   "PNS1_16VolumeGidManagerERK6OptionIPNS_10AuthorizerEE");
#elif MESOS_AGENT_ABI == 109
extern void slave_ctor(void* self, const std::string* id, const void* flags,
                       void* detector, void* containerizer, void* files,
                       void* gc, void* status_update_manager,
                       void* resource_estimator, void* qos_controller,
                       void* secret_generator, void* volume_gid_manager,
                       void* future_tracker, const OptPtr* authorizer)
    asm(SLAVE_CTOR "PNS1_23TaskStatusUpdateManagerEPNS_5slave17ResourceEstimatorE"
                   "PNSQ_13QoSControllerEPNS_15SecretGeneratorE"
                   "PNS1_16VolumeGidManagerEPNS0_20PendingFutureTrackerE"
                   "RK6OptionIPNS_10AuthorizerEE");
#elif MESOS_AGENT_ABI == 110
extern void slave_ctor(void* self, const std::string* id, const void* flags,
                       void* detector, void* containerizer, void* files,
                       void* gc, void* status_update_manager,
                       void* resource_estimator, void* qos_controller,
                       void* secret_generator, void* volume_gid_manager,
                       void* future_tracker, const OptPtr* executor_socket,
                       const OptPtr* authorizer)
    asm(SLAVE_CTOR "PNS1_23TaskStatusUpdateManagerEPNS_5slave17ResourceEstimatorE"
                   "PNSQ_13QoSControllerEPNS_15SecretGeneratorE"
                   "PNS1_16VolumeGidManagerEPNS0_20PendingFutureTrackerE"
                   "RK6OptionIN7process7network8internal6SocketINS13_4unix7AddressEEEE"
                   "RKS11_IPNS_10AuthorizerEE");
#elif MESOS_AGENT_ABI == 111
extern void slave_ctor(void* self, const std::string* id, const void* flags,
                       void* detector, void* containerizer, void* files,
                       void* gc, void* status_update_manager,
                       void* resource_estimator, void* qos_controller,
                       void* secret_generator, void* volume_gid_manager,
                       void* future_tracker, OwnedEmpty* csi_server,
                       const OptPtr* executor_socket, const OptPtr* authorizer)
    asm(SLAVE_CTOR "PNS1_23TaskStatusUpdateManagerEPNS_5slave17ResourceEstimatorE"
                   "PNSQ_13QoSControllerEPNS_15SecretGeneratorE"
                   "PNS1_16VolumeGidManagerEPNS0_20PendingFutureTrackerE"
                   "ON7process5OwnedINS1_9CSIServerEEE"
                   "RK6OptionINS11_7network8internal6SocketINS17_4unix7AddressEEEE"
                   "RKS16_IPNS_10AuthorizerEE");
#endif

// ---------------------------------------------------------------------------
// HA master entry points (MESOS_MASTER_HA_ABI != 0 only: every name is
// checked against the version's exports by the build).
#if MESOS_MASTER_HA_ABI != 0
extern void master_flags_ctor(void* self)
    asm("_ZN5mesos8internal6master5FlagsC1Ev");
// Log(quorum, path, servers, timeout, znode, Option<zookeeper::Authentication>,
//     autoInitialize, Option<string> metricsPrefix)
extern void log_ctor(void* self, int quorum, const std::string* path,
                     const std::string* servers, const int64_t* timeout,
                     const std::string* znode, const void* auth,
                     bool auto_initialize, const OptString* metrics_prefix)
    asm("_ZN5mesos3log3LogC1EiRK" CXX_STRING "S9_RK8DurationS9_RK6OptionIN9zookeeper14AuthenticationEEbRKSD_IS7_E");
extern void log_storage_ctor(void* self, void* log, unsigned long diffs)
    asm("_ZN5mesos5state10LogStorageC1EPNS_3log3LogEm");
// vtable of mesos::state::protobuf::State (the class itself is header-only).
extern char protobuf_state_vtable[]
    asm("_ZTVN5mesos5state8protobuf5StateE");
extern void registrar_ctor(void* self, const void* flags, void* state,
                           const OptString* realm)
    asm("_ZN5mesos8internal6master9RegistrarC1ERKNS1_5FlagsEPNS_5state5StateERK6OptionI" CXX_STRING "E");
extern void contender_create(void* ret, const OptString* zk,
                             const OptString* module, const OptDuration* timeout)
    asm("_ZN5mesos6master9contender15MasterContender6createERK6OptionI" CXX_STRING
        "ESC_RKS3_I8DurationE");
extern void master_ctor(void* self, void* allocator, void* registrar,
                        void* files, void* contender, void* detector,
                        const OptPtr* authorizer, const void* rate_limiter,
                        const void* flags)
    asm("_ZN5mesos8internal6master6MasterC1EPNS_9allocator9AllocatorEPNS1_9RegistrarEPNS0_5FilesEPNS_6master9contender15MasterContenderEPNSA_8detector14MasterDetectorERK6OptionIPNS_10AuthorizerEERKSH_ISt10shared_ptrIN7process11RateLimiterEEERKNS1_5FlagsE");
extern void process_terminate(const void* upid, bool inject)
    asm("_ZN7process9terminateERKNS_4UPIDEb");
#if MESOS_MASTER_HA_ABI == 107
// Try<Allocator*> MesosAllocator<HierarchicalAllocatorProcess<DRFSorter, DRFSorter, DRFSorter>>::create()
extern void hierarchical_allocator_create(void* ret)
    asm("_ZN5mesos8internal6master9allocator14MesosAllocatorINS2_28HierarchicalAllocatorProcessINS2_9DRFSorterES5_S5_EEE6createEv");
#elif MESOS_MASTER_HA_ABI == 106
// MesosAllocator<HierarchicalAllocatorProcess<DRFSorter, DRFSorter, DRFSorter>>::MesosAllocator()
// as the base-object constructor (C2): the only entry the 1.6.1 build exports. The
// class has no virtual bases, so C2 builds a complete object like C1 would.
extern void hierarchical_allocator_ctor(void* self)
    asm("_ZN5mesos8internal6master9allocator14MesosAllocatorINS2_28HierarchicalAllocatorProcessINS2_9DRFSorterES5_S5_EEEC2Ev");
#elif MESOS_MASTER_HA_ABI == 110
// MesosAllocator<HierarchicalAllocatorProcess<DRFSorter, DRFSorter>>::MesosAllocator()
// (creates and spawns its process; create() is not exported in 1.9-1.11)
extern void hierarchical_allocator_ctor(void* self)
    asm("_ZN5mesos8internal6master9allocator14MesosAllocatorINS2_28HierarchicalAllocatorProcessINS2_9DRFSorterES5_EEEC1Ev");
#else
#error "unknown MESOS_MASTER_HA_ABI"
#endif
#endif

namespace {

// Opaque object sizes: generous upper bounds (the real objects are smaller).
constexpr size_t kSmallObject = 64 * 1024;
constexpr size_t kFlagsObject = 256 * 1024;
constexpr size_t kSlaveObject = 1024 * 1024;
// Sizes checked by `selfcheck` against the dynamic symbol table are passed in
// by the build; the bounds above must exceed them.

// Agents look for helper programs (mesos-executor, mesos-containerizer) in
// --launcher_dir, whose default (/usr/libexec/mesos) does not exist in these
// images. Default it to this launcher's own directory, where the build puts
// them (a 1.4.x agent misbehaves without a mesos-executor file there).
void default_launcher_dir() {
  const char* set = getenv("MESOS_LAUNCHER_DIR");
  if (set != nullptr && *set != '\0') return;
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return;
  path[n] = '\0';
  char* slash = strrchr(path, '/');
  if (slash == nullptr) return;
  *slash = '\0';
  setenv("MESOS_LAUNCHER_DIR", path, 1);
}

sigset_t blocked_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  return set;
}

// Blocks SIGTERM/SIGINT/SIGUSR1 in this thread; threads created later (libprocess
// workers) inherit the mask, so only sigwait() below sees them.
void block_signals() {
  sigset_t set = blocked_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_signal() {
  sigset_t set = blocked_signals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

void initialize_libprocess(const char* delegate, const char* rw,
                           const char* ro) {
  OptString d = OptString::some(delegate);
  OptString w = OptString::some(rw);
  OptString r = OptString::some(ro);
  process_initialize(&d, &w, &r);

  // Serves /version.
  void* version = alloc_object(kSmallObject);
  version_process_ctor(version);
  Buffer upid;
  process_spawn(&upid, process_base(version), true);
}

// The message of a failed Try<Nothing>, or nullptr when it succeeded.
const std::string* try_nothing_error(const Try<Nothing>& t) {
  int error_state = *reinterpret_cast<const int*>(t.bytes + 8);
  if (error_state != 0) return nullptr;
  return reinterpret_cast<const std::string*>(t.bytes + 16);
}

// A `--modules` value as the flag takes it (inline JSON, `file:///path` or `/path`), as
// text; exits like a bad flag when the file cannot be read.
std::string modules_json(const char* value) {
  std::string v(value);
  if (v.compare(0, 7, "file://") == 0) v = v.substr(7);
  if (v.empty() || v[0] != '/') return std::string(value);
  FILE* f = fopen(v.c_str(), "r");
  if (f == nullptr) {
    fprintf(stderr, "Failed to load flag 'modules': Error reading file '%s': %s\n",
            v.c_str(), strerror(errno));
    _exit(1);
  }
  std::string text;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) text.append(chunk, n);
  fclose(f);
  return text;
}

// What mesos-master and mesos-agent do with --modules and --modules_dir before they start
// (MESOS_MODULES, MESOS_MODULES_DIR): load the modules; a failure stops the program with
// Mesos's own message and exit status 1. `with_modules` is false for the standalone master,
// whose local::launch loads MESOS_MODULES itself (but ignores MESOS_MODULES_DIR).
//
// --modules is loaded through ModuleManager::load(dir), the entry point of --modules_dir,
// from a directory holding only the flag's JSON: the same parser and loader as for
// --modules (the flag's parsed value lives inside the opaque Flags object).
void load_modules(bool with_modules) {
  const char* modules = getenv("MESOS_MODULES");
  const char* modules_dir = getenv("MESOS_MODULES_DIR");
  bool have_modules = modules != nullptr && *modules != '\0';
  bool have_dir = modules_dir != nullptr && *modules_dir != '\0';
  if (have_modules && have_dir) {
    fprintf(stderr, "Only one of --modules or --modules_dir should be specified\n");
    _exit(1);
  }
  std::string dir;
  if (have_dir) {
    dir = modules_dir;
  } else if (have_modules && with_modules) {
    char tmpl[] = "/tmp/mesos-launcher-modules-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      fprintf(stderr, "mesos-launcher: cannot create a directory for --modules: %s\n",
              strerror(errno));
      _exit(1);
    }
    dir = tmpl;
    std::string file = dir + "/modules.json";
    std::string json = modules_json(modules);
    FILE* f = fopen(file.c_str(), "w");
    if (f == nullptr || fwrite(json.data(), 1, json.size(), f) != json.size()) {
      fprintf(stderr, "mesos-launcher: cannot write %s: %s\n", file.c_str(), strerror(errno));
      _exit(1);
    }
    fclose(f);
  }
  if (dir.empty()) return;
  Try<Nothing> loaded = mesos::modules::ModuleManager::load(dir);
  if (const std::string* e = try_nothing_error(loaded)) {
    // The directory loader names the file it read ("Error loading modules from
    // '<dir>/modules.json': "); for --modules that file is ours, and the real
    // programs print the loader's text alone.
    std::string text = *e;
    std::string ours = "Error loading modules from '" + dir + "/modules.json': ";
    if (!have_dir && text.compare(0, ours.size(), ours) == 0) text = text.substr(ours.size());
    fprintf(stderr, "Error loading modules: %s\n", text.c_str());
    _exit(1);
  }
}

// Creates every loaded Anonymous module, as mesos-master and mesos-agent do (once, never
// deleted); a module whose create() fails stops the program.
void create_anonymous_modules() {
  Option<mesos::Parameters> none;
  for (const std::string& name :
       mesos::modules::ModuleManager::find<mesos::modules::Anonymous>()) {
    Try<mesos::modules::Anonymous*> created =
        mesos::modules::ModuleManager::create<mesos::modules::Anonymous>(name, none);
    int error_state = *reinterpret_cast<const int*>(created.bytes + 16);
    void* object = *reinterpret_cast<void* const*>(created.bytes + 8);
    if (error_state == 0 || object == nullptr) {
      fprintf(stderr, "Failed to create anonymous module named '%s'\n", name.c_str());
      _exit(1);
    }
  }
}

// --hooks (MESOS_HOOKS): installs the named Hook modules, as the real programs do.
void install_hooks() {
  const char* hooks = getenv("MESOS_HOOKS");
  if (hooks == nullptr || *hooks == '\0') return;
  Try<Nothing> installed = mesos::internal::HookManager::initialize(hooks);
  if (const std::string* e = try_nothing_error(installed)) {
    fprintf(stderr, "Error installing hooks: %s\n", e->c_str());
    _exit(1);
  }
}

int run_local(int agents) {
  // local::launch would fall back to /tmp/mesos; the real mesos-master
  // refuses to run a replicated-log registry without a work dir, and so do we.
  const char* registry = getenv("MESOS_REGISTRY");
  const char* work_dir = getenv("MESOS_WORK_DIR");
  bool in_memory = registry != nullptr && strcmp(registry, "in_memory") == 0;
  if ((work_dir == nullptr || *work_dir == '\0') && !in_memory) {
    fprintf(stderr,
            "mesos-launcher: MESOS_WORK_DIR is needed for the replicated log "
            "based registry (or set MESOS_REGISTRY=in_memory)\n");
    return 1;
  }

  if (agents > 0) default_launcher_dir();
  block_signals();
  initialize_libprocess("master", "mesos-master-readwrite",
                        "mesos-master-readonly");

  // local::Flags: work_dir (std::string) at +0x8, num_slaves (int) at +0x28.
  void* flags = alloc_object(kSmallObject);
  local_flags_ctor(flags);
  if (work_dir != nullptr && *work_dir != '\0') {
    *reinterpret_cast<std::string*>(static_cast<char*>(flags) + 0x8) = work_dir;
  }
  *reinterpret_cast<int*>(static_cast<char*>(flags) + 0x28) = agents;

  // --modules_dir, which local::launch ignores (it loads MESOS_MODULES and creates the
  // anonymous modules itself, after this).
  load_modules(false);

  // On a bad flag local::launch itself prints the error and exits 1.
  Buffer pid;
  local_launch(&pid, flags, nullptr);

  // --hooks, which local::launch ignores.
  install_hooks();

  int sig = wait_for_signal();
  fprintf(stderr, "mesos-launcher: signal %d, shutting down\n", sig);
  local_shutdown();
  _exit(0);
}

void* wait_for_agent(void* upid) {
  // Duration::max() overflows the deadline arithmetic of older libprocess
  // (1.4.3 returns at once); wait in hour-long rounds instead. wait() returns
  // true once the process has terminated, false on timeout.
  int64_t hour = 3600LL * 1000 * 1000 * 1000;
  while (!process_wait(upid, &hour)) {
  }
  fprintf(stderr, "mesos-launcher: the agent process terminated\n");
  _exit(0);
  return nullptr;
}


// Set while an HA master stops gracefully: its termination is then expected.
volatile bool master_stopping = false;

void* wait_for_master(void* upid) {
  int64_t hour = 3600LL * 1000 * 1000 * 1000;
  while (!process_wait(upid, &hour)) {
  }
  if (master_stopping) return nullptr;
  fprintf(stderr, "mesos-launcher: the master process terminated\n");
  _exit(1);
  return nullptr;
}

// A Mesos duration as flags take it ("2secs", "500ms", "1mins"); -1 if malformed.
int64_t parse_duration_nanos(const char* text) {
  char* end = nullptr;
  double value = strtod(text, &end);
  if (end == text || value < 0) return -1;
  std::string unit(end);
  double scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "secs") scale = 1e9;
  else if (unit == "mins") scale = 60e9;
  else if (unit == "hrs") scale = 3600e9;
  else if (unit == "days") scale = 86400e9;
  else if (unit == "weeks") scale = 7 * 86400e9;
  else return -1;
  return static_cast<int64_t>(value * scale);
}

// A master wired like mesos-master with --zk: the registry in a replicated log
// whose replicas find each other through ZooKeeper (<znode>/log_replicas), and
// leader election (contender) and detection through ZooKeeper.
int run_ha_master() {
#if MESOS_MASTER_HA_ABI == 0
  fprintf(stderr,
          "mesos-launcher: HA masters (MESOS_ZK) are not supported by this "
          "build of Mesos %s; supported: %s\n",
          MESOS_VERSION_STRING, MESOS_MASTER_HA_VERSIONS);
  return 1;
#else
  const char* zk = getenv("MESOS_ZK");
  if (zk == nullptr || strncmp(zk, "zk://", 5) != 0) {
    fprintf(stderr,
            "mesos-launcher: ha-master mode needs MESOS_ZK=zk://host:port[,...]/path "
            "(got %s)\n", zk == nullptr ? "nothing" : zk);
    return 1;
  }
  // zk://[auth@]servers/path: no authentication here.
  std::string url(zk + 5);
  if (url.find('@') != std::string::npos) {
    fprintf(stderr, "mesos-launcher: ZooKeeper authentication (user:pass@) is not supported\n");
    return 1;
  }
  size_t slash = url.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == url.size()) {
    fprintf(stderr, "mesos-launcher: MESOS_ZK must look like zk://host:port/path (got %s)\n", zk);
    return 1;
  }
  std::string servers = url.substr(0, slash);
  std::string znode = url.substr(slash);
  while (znode.size() > 1 && znode.back() == '/') znode.pop_back();

  const char* quorum_text = getenv("MESOS_QUORUM");
  int quorum = quorum_text != nullptr ? atoi(quorum_text) : 0;
  if (quorum < 1) {
    fprintf(stderr,
            "mesos-launcher: MESOS_QUORUM (the replicated log quorum, a majority "
            "of the masters) is needed with MESOS_ZK\n");
    return 1;
  }
  const char* work_dir = getenv("MESOS_WORK_DIR");
  if (work_dir == nullptr || *work_dir == '\0') {
    fprintf(stderr, "mesos-launcher: MESOS_WORK_DIR is needed for the replicated log\n");
    return 1;
  }
  const char* registry = getenv("MESOS_REGISTRY");
  if (registry != nullptr && strcmp(registry, "replicated_log") != 0) {
    fprintf(stderr, "mesos-launcher: ha-master mode needs MESOS_REGISTRY=replicated_log (got %s)\n",
            registry);
    return 1;
  }
  int64_t session_timeout = 10LL * 1000 * 1000 * 1000;
  const char* timeout_text = getenv("MESOS_ZK_SESSION_TIMEOUT");
  if (timeout_text != nullptr && *timeout_text != '\0') {
    session_timeout = parse_duration_nanos(timeout_text);
    if (session_timeout <= 0) {
      fprintf(stderr, "mesos-launcher: MESOS_ZK_SESSION_TIMEOUT=%s is not a duration\n",
              timeout_text);
      return 1;
    }
  }
  // mesos-master creates its work dir (leveldb would fail on a missing parent).
  {
    std::string dir(work_dir);
    for (size_t i = 1; i <= dir.size(); i++) {
      if (i == dir.size() || dir[i] == '/') {
        std::string prefix = dir.substr(0, i);
        if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
          fprintf(stderr, "mesos-launcher: cannot create %s: %s\n", prefix.c_str(),
                  strerror(errno));
          return 1;
        }
      }
    }
  }
  const char* auto_init = getenv("MESOS_LOG_AUTO_INITIALIZE");
  bool auto_initialize = auto_init == nullptr || strcmp(auto_init, "false") != 0;

  block_signals();

  void* flags = alloc_object(kFlagsObject);
  master_flags_ctor(flags);
  {
    Buffer ret;
    std::string prefix("MESOS_");
    flags_base_load(&ret,
                    static_cast<char*>(flags) + MESOS_MASTER_FLAGSBASE_OFFSET,
                    &prefix);
    try_warnings_or_die(ret, "failed to load master flags from MESOS_* variables");
  }

  initialize_libprocess("master", "mesos-master-readwrite",
                        "mesos-master-readonly");
  load_modules(true);
  create_anonymous_modules();
  install_hooks();

  // The allocator first, as mesos-master does.
  void* allocator = nullptr;
#if MESOS_MASTER_HA_ABI == 107
  {
    Buffer ret;
    hierarchical_allocator_create(&ret);
    allocator = try_ptr_or_die(ret, "creating the hierarchical allocator");
  }
#else
  allocator = alloc_object(kSmallObject);
  hierarchical_allocator_ctor(allocator);
#endif

  // The replicated log, its replicas found through ZooKeeper.
  std::string log_path = std::string(work_dir) + "/replicated_log";
  std::string log_znode = znode + "/log_replicas";
  struct {
    int state;
    std::string scheme;
    std::string credentials;
  } no_auth{1, std::string(), std::string()};
  OptString metrics_prefix = OptString::some("registrar/");
  void* log = alloc_object(kSmallObject);
  log_ctor(log, quorum, &log_path, &servers, &session_timeout, &log_znode,
           &no_auth, auto_initialize, &metrics_prefix);

  void* storage = alloc_object(kSmallObject);
  log_storage_ctor(storage, log, 0);

  // mesos::state::protobuf::State: {vptr, Storage*} (inline in Mesos headers).
  void** state = static_cast<void**>(alloc_object(kSmallObject));
  state[0] = protobuf_state_vtable + 2 * sizeof(void*);
  state[1] = storage;

  OptString realm = OptString::some("mesos-master-readonly");
  void* registrar = alloc_object(kSmallObject);
  registrar_ctor(registrar, flags, state, &realm);

  OptString zk_option = OptString::some(zk);
  OptString none = OptString::none();
  OptDuration timeout{0, session_timeout};
  Buffer ret;
  contender_create(&ret, &zk_option, &none, &timeout);
  void* contender = try_ptr_or_die(ret, "creating the ZooKeeper master contender");
  detector_create(&ret, &zk_option, &none, &timeout);
  void* detector = try_ptr_or_die(ret, "creating the ZooKeeper master detector");

  void* files = alloc_object(kSmallObject);
  OptPtr no_authorizer{1, nullptr};
  files_ctor(files, &realm, &no_authorizer);

  // Option<shared_ptr<RateLimiter>> NONE.
  struct {
    int state;
    void* ptr;
    void* ctrl;
  } no_rate_limiter{1, nullptr, nullptr};
  void* master = alloc_object(kSlaveObject);
  master_ctor(master, allocator, registrar, files, contender, detector,
              &no_authorizer, &no_rate_limiter, flags);

  static Buffer upid;
  process_spawn(&upid, process_base(master), false);
  fprintf(stderr,
          "mesos-launcher: HA master %s started (ZooKeeper %s, znode %s, quorum %d, "
          "session timeout %.3fs)\n",
          MESOS_VERSION_STRING, servers.c_str(), znode.c_str(), quorum,
          session_timeout / 1e9);

  pthread_t waiter;
  pthread_create(&waiter, nullptr, wait_for_master, &upid);

  int sig = wait_for_signal();
  if (sig == SIGUSR1) {
    // Graceful stop, as mesos-master's own shutdown order: terminate the master
    // first, then destroy the contender, whose ZooKeeper session closes, so its
    // candidacy znode goes at once and another master is elected without waiting
    // for the session to expire.
    master_stopping = true;
    fprintf(stderr, "mesos-launcher: signal %d, HA master stops gracefully\n", sig);
    process_terminate(&upid, true);
    int64_t limit = 10LL * 1000 * 1000 * 1000;
    if (!process_wait(&upid, &limit)) {
      fprintf(stderr, "mesos-launcher: the master did not terminate within 10s\n");
      _exit(1);
    }
    // The complete-object destructor: the first slot of the contender's vtable.
    using Destructor = void (*)(void*);
    Destructor destroy = (*reinterpret_cast<Destructor**>(contender))[0];
    destroy(contender);
    fprintf(stderr, "mesos-launcher: master terminated, ZooKeeper candidacy withdrawn\n");
    _exit(0);
  }
  // SIGTERM/SIGINT: no ZooKeeper session close, like a killed mesos-master: the
  // others take over once the session expires (MESOS_ZK_SESSION_TIMEOUT).
  fprintf(stderr, "mesos-launcher: signal %d, HA master exits\n", sig);
  _exit(0);
#endif
}

int run_agent() {
  default_launcher_dir();
  block_signals();

  // Mesos's own flag loading comes first, as in mesos-agent: a missing
  // required flag (--work_dir has no default since 1.0) is reported in its
  // words ("Flag 'work_dir' is required, but it was not provided").
  void* flags = alloc_object(kFlagsObject);
  slave_flags_ctor(flags);
  {
    Buffer ret;
    std::string prefix("MESOS_");
    flags_base_load(&ret,
                    static_cast<char*>(flags) + MESOS_SLAVE_FLAGSBASE_OFFSET,
                    &prefix);
    try_warnings_or_die(ret, "failed to load agent flags from MESOS_* variables");
  }

  // --master is an Option in slave::Flags; mesos-agent checks it after
  // loading ("Missing required option `--master` or `--master_detector`").
  // The launcher has no --master_detector (no modules), so --master it is.
  const char* master = getenv("MESOS_MASTER");
  if (master == nullptr || *master == '\0') {
    fprintf(stderr,
            "mesos-launcher: agent mode needs MESOS_MASTER (host:port of the "
            "master, or a zk:// URL)\n");
    return 1;
  }
  // Loaded above: a required flag, so the variable is set.
  const char* work_dir = getenv("MESOS_WORK_DIR");
  if (work_dir == nullptr) work_dir = "";

  initialize_libprocess("slave(1)", "mesos-agent-readwrite",
                        "mesos-agent-readonly");
  load_modules(true);
  create_anonymous_modules();
  install_hooks();

  void* fetcher = alloc_object(kSmallObject);
  fetcher_ctor(fetcher, flags);

  std::string work_dir_string(work_dir);
  void* gc = alloc_object(kSmallObject);
  gc_ctor(gc, &work_dir_string);

  OptString none = OptString::none();
  Buffer ret;
  secret_resolver_create(&ret, &none);
  void* secret_resolver = try_ptr_or_die(ret, "creating the secret resolver");

#if MESOS_AGENT_ABI <= 105
  containerizer_create(&ret, flags, false, fetcher, secret_resolver);
#elif MESOS_AGENT_ABI == 107
  containerizer_create(&ret, flags, false, fetcher, gc, secret_resolver);
#elif MESOS_AGENT_ABI == 108
  containerizer_create(&ret, flags, false, fetcher, gc, secret_resolver,
                       nullptr);
#elif MESOS_AGENT_ABI == 109 || MESOS_AGENT_ABI == 110
  containerizer_create(&ret, flags, false, fetcher, gc, secret_resolver,
                       nullptr, nullptr);
#else
  containerizer_create(&ret, flags, false, fetcher, gc, secret_resolver,
                       nullptr, nullptr, nullptr);
#endif
  void* containerizer = try_ptr_or_die(ret, "creating the containerizer");

  OptString master_option = OptString::some(master);
  OptDuration no_timeout{1, 0};
  detector_create(&ret, &master_option, &none, &no_timeout);
  void* detector = try_ptr_or_die(ret, "creating the master detector");

  OptString files_realm = OptString::some("mesos-agent-readonly");
  OptPtr no_authorizer{1, nullptr};
  void* files = alloc_object(kSmallObject);
  files_ctor(files, &files_realm, &no_authorizer);

  void* status_updates = alloc_object(kSmallObject);
  status_update_manager_ctor(status_updates, flags);

  // --resource_estimator / --qos_controller name modules (default: the built-in noop ones).
  const char* estimator_name = getenv("MESOS_RESOURCE_ESTIMATOR");
  OptString estimator = estimator_name != nullptr && *estimator_name != '\0'
                            ? OptString::some(estimator_name)
                            : OptString::none();
  resource_estimator_create(&ret, &estimator);
  void* resource_estimator = try_ptr_or_die(ret, "creating the resource estimator");
  const char* qos_name = getenv("MESOS_QOS_CONTROLLER");
  OptString qos = qos_name != nullptr && *qos_name != '\0' ? OptString::some(qos_name)
                                                            : OptString::none();
  qos_controller_create(&ret, &qos);
  void* qos_controller = try_ptr_or_die(ret, "creating the QoS controller");

  std::string id("slave(1)");
  void* slave = alloc_object(kSlaveObject);
#if MESOS_AGENT_ABI == 104
  slave_ctor(slave, &id, flags, detector, containerizer, files, gc,
             status_updates, resource_estimator, qos_controller,
             &no_authorizer);
#elif MESOS_AGENT_ABI == 105 || MESOS_AGENT_ABI == 107
  slave_ctor(slave, &id, flags, detector, containerizer, files, gc,
             status_updates, resource_estimator, qos_controller, nullptr,
             &no_authorizer);
#elif MESOS_AGENT_ABI == 108
  slave_ctor(slave, &id, flags, detector, containerizer, files, gc,
             status_updates, resource_estimator, qos_controller, nullptr,
             nullptr, &no_authorizer);
#elif MESOS_AGENT_ABI == 109
  slave_ctor(slave, &id, flags, detector, containerizer, files, gc,
             status_updates, resource_estimator, qos_controller, nullptr,
             nullptr, nullptr, &no_authorizer);
#elif MESOS_AGENT_ABI == 110
  OptPtr no_socket{1, nullptr};
  slave_ctor(slave, &id, flags, detector, containerizer, files, gc,
             status_updates, resource_estimator, qos_controller, nullptr,
             nullptr, nullptr, &no_socket, &no_authorizer);
#else
  // Option<Socket<unix::Address>> NONE: state 1; the socket (a shared_ptr)
  // is never read.
  struct {
    int state;
    void* a;
    void* b;
  } no_socket{1, nullptr, nullptr};
  OwnedEmpty no_csi_server{nullptr, nullptr};
  slave_ctor(slave, &id, flags, detector, containerizer, files, gc,
             status_updates, resource_estimator, qos_controller, nullptr,
             nullptr, nullptr, &no_csi_server,
             reinterpret_cast<const OptPtr*>(&no_socket), &no_authorizer);
#endif

  static Buffer upid;
  process_spawn(&upid, process_base(slave), false);

  pthread_t waiter;
  pthread_create(&waiter, nullptr, wait_for_agent, &upid);

  int sig = wait_for_signal();
  fprintf(stderr, "mesos-launcher: signal %d, agent exits leaving its checkpoints\n",
          sig);
  _exit(0);
}

// Verifies, without starting anything, the layout facts this build relies on:
// the FlagsBase offset inside slave::Flags must be the offset of a subobject
// whose vtable carries FlagsBase's own virtual functions.
int selfcheck() {
  void* flags = alloc_object(kFlagsObject);
  slave_flags_ctor(flags);
  const char* base = static_cast<const char*>(flags);
  const intptr_t offset = MESOS_SLAVE_FLAGSBASE_OFFSET;

  // 1. The primary vtable lists the offset among its virtual-base offsets.
  const intptr_t* primary = *reinterpret_cast<intptr_t* const*>(base);
  bool listed = primary[-3] == offset || primary[-4] == offset;

  // 2. The subobject's vtable says it sits `offset` bytes from the top.
  const intptr_t* sub = *reinterpret_cast<intptr_t* const*>(base + offset);
  bool top = sub[-2] == -offset;

  // 3. It has FlagsBase's virtual functions (those slave::Flags does not
  //    override are the very same addresses as in FlagsBase's vtable).
  const intptr_t* flags_base_vtable = static_cast<const intptr_t*>(
      dlsym(RTLD_DEFAULT, "_ZTVN5flags9FlagsBaseE"));
  int matching = 0;
  int slots = 0;
  const char* slots_env = getenv("MESOS_LAUNCHER_FLAGSBASE_VTABLE_SLOTS");
  if (slots_env != nullptr) slots = atoi(slots_env);
  if (flags_base_vtable != nullptr) {
    const intptr_t* functions = flags_base_vtable + 2;
    // Slots 0 and 1 are the destructors (thunks in the derived vtable).
    for (int i = 2; i < slots; i++) {
      if (functions[i] != 0 && functions[i] == sub[i]) matching++;
    }
  }

  // local::Flags: num_slaves defaults to 1.
  void* local = alloc_object(kSmallObject);
  local_flags_ctor(local);
  int num_slaves = *reinterpret_cast<int*>(static_cast<char*>(local) + 0x28);
  const std::string* local_work_dir =
      reinterpret_cast<const std::string*>(static_cast<char*>(local) + 0x8);

  printf("version %s\n", MESOS_VERSION_STRING);
  printf("agent_abi %d\n", MESOS_AGENT_ABI);
  printf("flagsbase_offset 0x%lx\n", static_cast<long>(offset));
  printf("flagsbase_listed_in_vbase_offsets %d\n", listed ? 1 : 0);
  printf("flagsbase_offset_to_top_ok %d\n", top ? 1 : 0);
  printf("flagsbase_vtable_slots_matching %d of %d\n", matching,
         slots > 2 ? slots - 2 : 0);
  printf("local_flags_num_slaves_default %d\n", num_slaves);
  printf("local_flags_work_dir_length %zu\n", local_work_dir->size());

  bool ok = listed && top && matching > 0 && num_slaves == 1;

#if MESOS_MASTER_HA_ABI != 0
  // The same three checks for master::Flags (HA master mode).
  {
    void* mflags = alloc_object(kFlagsObject);
    master_flags_ctor(mflags);
    const char* mbase = static_cast<const char*>(mflags);
    const intptr_t moffset = MESOS_MASTER_FLAGSBASE_OFFSET;
    const intptr_t* mprimary = *reinterpret_cast<intptr_t* const*>(mbase);
    bool mlisted = mprimary[-3] == moffset || mprimary[-4] == moffset;
    const intptr_t* msub = *reinterpret_cast<intptr_t* const*>(mbase + moffset);
    bool mtop = msub[-2] == -moffset;
    int mmatching = 0;
    if (flags_base_vtable != nullptr) {
      const intptr_t* functions = flags_base_vtable + 2;
      for (int i = 2; i < slots; i++) {
        if (functions[i] != 0 && functions[i] == msub[i]) mmatching++;
      }
    }
    printf("master_ha_abi %d\n", MESOS_MASTER_HA_ABI);
    printf("master_flagsbase_offset 0x%lx\n", static_cast<long>(moffset));
    printf("master_flagsbase_listed_in_vbase_offsets %d\n", mlisted ? 1 : 0);
    printf("master_flagsbase_offset_to_top_ok %d\n", mtop ? 1 : 0);
    printf("master_flagsbase_vtable_slots_matching %d of %d\n", mmatching,
           slots > 2 ? slots - 2 : 0);
    ok = ok && mlisted && mtop && mmatching > 0;
  }
#else
  printf("master_ha_abi 0 (HA masters supported by: %s)\n", MESOS_MASTER_HA_VERSIONS);
#endif
  printf("selfcheck %s\n", ok ? "ok" : "FAILED");
  fflush(stdout);
  _exit(ok ? 0 : 1);
}

int usage() {
  fprintf(stderr,
          "usage: mesos-launcher master|ha-master|agent|local [N]|version|selfcheck\n"
          "Mesos %s; flags come from MESOS_* environment variables.\n",
          MESOS_VERSION_STRING);
  return 2;
}

}  // namespace

// Like mesos-master and mesos-agent: listen on --port (MESOS_PORT), by default 5050 for a
// master (and local mode) and 5051 for an agent, unless LIBPROCESS_PORT says otherwise.
// Without this libprocess binds a random port.
void default_port(const std::string& mode) {
  const char* set = getenv("LIBPROCESS_PORT");
  if (set != nullptr && *set != '\0') return;
  const char* port = getenv("MESOS_PORT");
  if (port == nullptr || *port == '\0') port = mode == "agent" ? "5051" : "5050";
  setenv("LIBPROCESS_PORT", port, 1);
}

// Installed under a Mesos program's name (`mesos-master`, `mesos-agent`, `mesos-slave`), as
// in images laid out like third-party ones, the name is the mode and no argument is needed.
std::string mode_from_name(const char* argv0) {
  std::string name(argv0 == nullptr ? "" : argv0);
  std::string::size_type slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (name == "mesos-master") return "master";
  if (name == "mesos-agent" || name == "mesos-slave") return "agent";
  return "";
}

int main(int argc, char** argv) {
  std::string mode = mode_from_name(argv[0]);
  if (mode.empty()) {
    if (argc < 2) return usage();
    mode = argv[1];
  }
  if (mode == "master" || mode == "ha-master" || mode == "agent" || mode == "local")
    default_port(mode);
  if (mode == "ha-master") return run_ha_master();
  if (mode == "master") {
    const char* zk = getenv("MESOS_ZK");
    if (zk != nullptr && *zk != '\0') return run_ha_master();
    return run_local(0);
  }
  if (mode == "agent") return run_agent();
  if (mode == "local") {
    const char* n = argc > 2 ? argv[2] : getenv("MESOS_NUM_AGENTS");
    if (n == nullptr) n = getenv("MESOS_NUM_SLAVES");
    int agents = n != nullptr ? atoi(n) : 1;
    if (agents < 1) {
      fprintf(stderr, "mesos-launcher: local mode needs at least one agent\n");
      return 1;
    }
    return run_local(agents);
  }
  if (mode == "version") {
    printf("%s\n", MESOS_VERSION_STRING);
    return 0;
  }
  if (mode == "selfcheck") return selfcheck();
  return usage();
}
