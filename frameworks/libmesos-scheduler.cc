// A framework linked against libmesos, written without Mesos headers: it drives the C++
// scheduler driver (`mesos::MesosSchedulerDriver`) that each version's libmesos exports, as
// the 0.x notes' frameworks did ("upgrade the schedulers: link against the new native
// library"). The harness builds it once per Mesos version against that version's library
// (`src/mesos/libmesos_scheduler.rs`); `upgrade_schedulers` replaces the running build by the `to`
// build, which fails over to the same framework ID.
//
// What it does: registers under FRAMEWORK_NAME (default `libmesos-scheduler`) with the
// master MESOS_MASTER (`host:port` or `zk://...`), a failover timeout of one week and
// checkpointing on; keeps its framework ID in FRAMEWORK_STATE_DIR/framework_id and registers
// with it again when restarted (a failover); declines every offer for an hour (it runs no
// tasks and must not hold resources other frameworks need). It prints one line per event.
//
// How, without headers (facts read from each build's exported symbols):
// - the driver's constructor (Scheduler*, const FrameworkInfo&, const std::string& master,
//   bool implicitAcknowledgements), run() and declineOffer(const OfferID&, const Filters&);
// - protobuf messages are built with their exported default constructors and filled with
//   MessageLite::ParseFromString from wire bytes written here; received messages are read
//   with MessageLite::SerializeToString (every message is-a MessageLite at offset 0);
// - mesos::Scheduler is an interface of virtual functions: this file declares one with the
//   same slots in the same order (a virtual destructor, then the ten callbacks);
// - a std::vector<Offer> is walked with the stride OFFER_SIZE, the size of the build's
//   `mesos::_Offer_default_instance_` symbol, and every element's vtable pointer is checked
//   against that default instance's before it is read.
//
// Build-time definitions: MESOS_VERSION_STRING ("1.11.0"), OFFER_SIZE (bytes).

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#ifndef MESOS_VERSION_STRING
#error "MESOS_VERSION_STRING must be defined by the build"
#endif
#ifndef OFFER_SIZE
#error "OFFER_SIZE must be defined by the build"
#endif

namespace google {
namespace protobuf {
class MessageLite {
 public:
  bool ParseFromString(const std::string& data);
  bool SerializeToString(std::string* output) const;
};
}  // namespace protobuf
}  // namespace google

namespace mesos {

// Opaque messages: only their exported default constructors are called, into storage far
// larger than any version's object (the largest, FrameworkInfo, is 0xe0 bytes in 1.11.0).
#define OPAQUE_MESSAGE(Name) \
  class Name {               \
   public:                   \
    Name();                  \
    alignas(16) char storage[1024]; \
  };
OPAQUE_MESSAGE(FrameworkInfo)
OPAQUE_MESSAGE(OfferID)
OPAQUE_MESSAGE(Filters)
#undef OPAQUE_MESSAGE

class FrameworkID;
class MasterInfo;
class Offer;
class TaskStatus;
class ExecutorID;
class SlaveID;
class SchedulerDriver;

// The scheduler interface: the order of the slots is the contract.
class Scheduler {
 public:
  virtual ~Scheduler() {}
  virtual void registered(SchedulerDriver*, const FrameworkID&, const MasterInfo&) = 0;
  virtual void reregistered(SchedulerDriver*, const MasterInfo&) = 0;
  virtual void disconnected(SchedulerDriver*) = 0;
  virtual void resourceOffers(SchedulerDriver*, const std::vector<Offer>&) = 0;
  virtual void offerRescinded(SchedulerDriver*, const OfferID&) = 0;
  virtual void statusUpdate(SchedulerDriver*, const TaskStatus&) = 0;
  virtual void frameworkMessage(SchedulerDriver*, const ExecutorID&, const SlaveID&,
                                const std::string&) = 0;
  virtual void slaveLost(SchedulerDriver*, const SlaveID&) = 0;
  virtual void executorLost(SchedulerDriver*, const ExecutorID&, const SlaveID&, int) = 0;
  virtual void error(SchedulerDriver*, const std::string&) = 0;
};

// The driver: non-virtual declarations of exported functions (called directly), and room
// for the object.
class MesosSchedulerDriver {
 public:
  MesosSchedulerDriver(Scheduler* scheduler, const FrameworkInfo& framework,
                       const std::string& master, bool implicitAcknowledgements);
  int run();
  int declineOffer(const OfferID& offerId, const Filters& filters);
  alignas(16) char storage[8192];
};

extern "C++" char _Offer_default_instance_[];

}  // namespace mesos

namespace {

using google::protobuf::MessageLite;

const char* kVersion = MESOS_VERSION_STRING;

void say(const std::string& line) {
  printf("libmesos-scheduler %s: %s\n", kVersion, line.c_str());
  fflush(stdout);
}

std::string env(const char* name, const char* fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// Protobuf wire format, written and read here.
void put_varint(std::string* out, unsigned long v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void put_bytes(std::string* out, int field, const std::string& value) {
  put_varint(out, (static_cast<unsigned long>(field) << 3) | 2);
  put_varint(out, value.size());
  out->append(value);
}

void put_double(std::string* out, int field, double value) {
  put_varint(out, (static_cast<unsigned long>(field) << 3) | 1);
  char bytes[8];
  memcpy(bytes, &value, 8);
  out->append(bytes, 8);
}

void put_bool(std::string* out, int field, bool value) {
  put_varint(out, static_cast<unsigned long>(field) << 3);
  put_varint(out, value ? 1 : 0);
}

bool get_varint(const std::string& s, size_t* pos, unsigned long* out) {
  *out = 0;
  for (int shift = 0; *pos < s.size() && shift < 64; shift += 7) {
    unsigned char b = static_cast<unsigned char>(s[(*pos)++]);
    *out |= static_cast<unsigned long>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// The first length-delimited field `field` of a message; empty when absent.
std::string get_bytes(const std::string& s, unsigned long field) {
  size_t pos = 0;
  while (pos < s.size()) {
    unsigned long tag = 0, n = 0;
    if (!get_varint(s, &pos, &tag)) break;
    switch (tag & 7) {
      case 0:
        if (!get_varint(s, &pos, &n)) return "";
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2:
        if (!get_varint(s, &pos, &n) || pos + n > s.size()) return "";
        if ((tag >> 3) == field) return s.substr(pos, n);
        pos += n;
        break;
      default:
        return "";
    }
  }
  return "";
}

std::string wire_of(const void* message) {
  std::string out;
  static_cast<const MessageLite*>(message)->SerializeToString(&out);
  return out;
}

std::string id_file() {
  return env("FRAMEWORK_STATE_DIR", "/tmp") + "/framework_id";
}

std::string saved_id() {
  std::ifstream in(id_file());
  std::string id;
  std::getline(in, id);
  return id;
}

class Scheduler : public mesos::Scheduler {
 public:
  explicit Scheduler(std::string previous) : previous_(std::move(previous)) {}

  void registered(mesos::SchedulerDriver*, const mesos::FrameworkID& id,
                  const mesos::MasterInfo&) override {
    std::string value = get_bytes(wire_of(&id), 1);
    std::ofstream(id_file()) << value << "\n";
    if (previous_.empty()) {
      say("registered as framework " + value);
    } else if (previous_ == value) {
      say("registered as framework " + value + " (failover: the same framework ID)");
    } else {
      say("registered as framework " + value + " (failover asked for " + previous_ +
          ": a NEW framework ID)");
    }
  }

  void reregistered(mesos::SchedulerDriver*, const mesos::MasterInfo& master) override {
    say("re-registered with master " + get_bytes(wire_of(&master), 1));
  }

  void disconnected(mesos::SchedulerDriver*) override { say("disconnected"); }

  void resourceOffers(mesos::SchedulerDriver* driver,
                      const std::vector<mesos::Offer>& offers) override {
    // The vector's three pointers: begin, end, end of storage.
    char* const* raw = reinterpret_cast<char* const*>(&offers);
    char* begin = raw[0];
    char* end = raw[1];
    size_t bytes = static_cast<size_t>(end - begin);
    if (bytes % OFFER_SIZE != 0) {
      say("offers not declined: " + std::to_string(bytes) + " bytes of offers are not a multiple of " +
          std::to_string(OFFER_SIZE));
      return;
    }
    void* vptr = *reinterpret_cast<void**>(mesos::_Offer_default_instance_);
    mesos::Filters filters;
    std::string wire;
    put_double(&wire, 1, 3600.0);  // refuse_seconds
    reinterpret_cast<MessageLite*>(&filters)->ParseFromString(wire);
    for (char* offer = begin; offer < end; offer += OFFER_SIZE) {
      if (*reinterpret_cast<void**>(offer) != vptr) {
        say("offers not declined: an element is not an Offer (stride " +
            std::to_string(OFFER_SIZE) + " is wrong for this build)");
        return;
      }
      std::string offer_id = get_bytes(wire_of(offer), 1);
      mesos::OfferID id;
      reinterpret_cast<MessageLite*>(&id)->ParseFromString(offer_id);
      auto* d = reinterpret_cast<mesos::MesosSchedulerDriver*>(driver);
      d->declineOffer(id, filters);
      say("declined offer " + get_bytes(offer_id, 1));
    }
  }

  void offerRescinded(mesos::SchedulerDriver*, const mesos::OfferID&) override {}
  void statusUpdate(mesos::SchedulerDriver*, const mesos::TaskStatus&) override {}
  void frameworkMessage(mesos::SchedulerDriver*, const mesos::ExecutorID&,
                        const mesos::SlaveID&, const std::string&) override {}
  void slaveLost(mesos::SchedulerDriver*, const mesos::SlaveID&) override {}
  void executorLost(mesos::SchedulerDriver*, const mesos::ExecutorID&, const mesos::SlaveID&,
                    int) override {}
  void error(mesos::SchedulerDriver*, const std::string& message) override {
    say("error: " + message);
    _exit(1);
  }

 private:
  std::string previous_;
};

void on_term(int) {
  // Like a crash of the scheduler process: the master keeps the framework for its failover
  // timeout; the next build registers with the same ID.
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("%s\n", kVersion);
    return 0;
  }
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  std::string master = env("MESOS_MASTER", "");
  if (master.empty()) {
    fprintf(stderr, "libmesos-scheduler: MESOS_MASTER is not set (host:port or zk://...)\n");
    return 2;
  }
  std::string previous = saved_id();
  std::string wire;
  put_bytes(&wire, 1, env("FRAMEWORK_USER", "root"));                 // user
  put_bytes(&wire, 2, env("FRAMEWORK_NAME", "libmesos-scheduler"));   // name
  if (!previous.empty()) {
    std::string id;
    put_bytes(&id, 1, previous);                                      // FrameworkID.value
    put_bytes(&wire, 3, id);                                          // id
  }
  put_double(&wire, 4, 7 * 24 * 3600.0);                              // failover_timeout
  put_bool(&wire, 5, true);                                           // checkpoint
  mesos::FrameworkInfo* framework = new mesos::FrameworkInfo();
  if (!reinterpret_cast<MessageLite*>(framework)->ParseFromString(wire)) {
    fprintf(stderr, "libmesos-scheduler: FrameworkInfo did not parse\n");
    return 1;
  }
  say(previous.empty() ? "starting, master " + master
                       : "starting, master " + master + ", failing over framework " + previous);
  Scheduler* scheduler = new Scheduler(previous);
  auto* driver = new mesos::MesosSchedulerDriver(scheduler, *framework, master, true);
  int status = driver->run();
  say("driver stopped with status " + std::to_string(status));
  _exit(status == 2 ? 0 : 1);  // DRIVER_STOPPED
}
