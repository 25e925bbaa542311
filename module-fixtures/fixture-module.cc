// A Mesos module written without Mesos headers (../shared/modules.md has the facts): one
// global, unmangled data symbol whose layout is the loader's module struct. The harness
// builds it per Mesos version and per variant (`src/modules/fixture.rs`) with:
//
//   FIXTURE_SYMBOL       the module name (the symbol's name), e.g. org_upgrade_harness_touch
//   FIXTURE_API          the declared module API version ("2"; "1" for a bad variant)
//   FIXTURE_VERSION      the declared Mesos version ("1.11.0"; another for a bad variant)
//   FIXTURE_KIND         the declared kind ("Anonymous"; an unknown one for a bad variant)
//   FIXTURE_COMPATIBLE   0: no compatible() (null), 1: returns true, 2: returns false
//   FIXTURE_CREATE_NULL  1: create() returns null
//
// The Anonymous object it creates writes the file named by the parameter `file` (the proof
// that the module was created), holding the declared version and the process id.

#include <stdio.h>
#include <unistd.h>

#include <string>

#ifndef FIXTURE_SYMBOL
#error "FIXTURE_SYMBOL must be defined by the build"
#endif
#define FIXTURE_STR2(x) #x
#define FIXTURE_STR(x) FIXTURE_STR2(x)
#define FIXTURE_SYMBOL_TEXT FIXTURE_STR(FIXTURE_SYMBOL)

namespace google {
namespace protobuf {
// Only the exported method is used: mesos::Parameters is a protobuf message, and a message
// is-a MessageLite at offset 0 (single inheritance).
class MessageLite {
 public:
  bool SerializeToString(std::string* output) const;
};
}  // namespace protobuf
}  // namespace google

namespace {

// mesos::modules::Anonymous: a polymorphic object with a virtual destructor only.
class Anonymous {
 public:
  virtual ~Anonymous() {}
};

// Reads a varint at `pos` of `s`; false past the end.
bool varint(const std::string& s, size_t* pos, unsigned long* out) {
  *out = 0;
  for (int shift = 0; *pos < s.size() && shift < 64; shift += 7) {
    unsigned char b = static_cast<unsigned char>(s[(*pos)++]);
    *out |= static_cast<unsigned long>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// The length-delimited fields `field` of a wire-format message, in order.
bool fields(const std::string& s, unsigned long field, std::string* out, size_t* pos) {
  while (*pos < s.size()) {
    unsigned long tag = 0;
    if (!varint(s, pos, &tag)) return false;
    unsigned long wire = tag & 7;
    if (wire == 2) {
      unsigned long len = 0;
      if (!varint(s, pos, &len) || *pos + len > s.size()) return false;
      std::string value = s.substr(*pos, len);
      *pos += len;
      if ((tag >> 3) == field) {
        *out = value;
        return true;
      }
    } else if (wire == 0) {
      unsigned long ignored = 0;
      if (!varint(s, pos, &ignored)) return false;
    } else {
      return false;
    }
  }
  return false;
}

// The value of parameter `key` of a serialized mesos.Parameters
// (repeated Parameter parameter = 1; Parameter { key = 1; value = 2 }).
[[maybe_unused]] std::string parameter(const std::string& parameters, const std::string& key) {
  size_t pos = 0;
  std::string one;
  while (fields(parameters, 1, &one, &pos)) {
    size_t p = 0;
    std::string k, v;
    if (fields(one, 1, &k, &p) && k == key) {
      p = 0;
      fields(one, 2, &v, &p);
      return v;
    }
  }
  return std::string();
}

class Touch : public Anonymous {
 public:
  explicit Touch(const std::string& file) {
    if (file.empty()) return;
    FILE* f = fopen(file.c_str(), "w");
    if (f == nullptr) return;
    fprintf(f, "%s %s pid %d\n", FIXTURE_SYMBOL_TEXT, FIXTURE_VERSION, static_cast<int>(getpid()));
    fclose(f);
  }
};

Anonymous* create(const google::protobuf::MessageLite& parameters) {
#if FIXTURE_CREATE_NULL
  (void)parameters;
  return nullptr;
#else
  std::string wire;
  parameters.SerializeToString(&wire);
  return new Touch(parameter(wire, "file"));
#endif
}

#if FIXTURE_COMPATIBLE == 1
bool compatible() { return true; }
#elif FIXTURE_COMPATIBLE == 2
bool compatible() { return false; }
#endif

}  // namespace

// The loader's struct: six strings, compatible(), create() at 0x38.
struct ModuleStruct {
  const char* moduleApiVersion;
  const char* mesosVersion;
  const char* kind;
  const char* authorName;
  const char* authorEmail;
  const char* description;
  bool (*compatible)();
  Anonymous* (*create)(const google::protobuf::MessageLite&);
};

static_assert(sizeof(ModuleStruct) == 64, "7 pointers and create()");

extern "C" {
__attribute__((visibility("default"))) ModuleStruct FIXTURE_SYMBOL = {
    FIXTURE_API,
    FIXTURE_VERSION,
    FIXTURE_KIND,
    "upgrade-harness",
    "upgrade-harness@localhost",
    "A fixture module of upgrade-harness: its creation writes the file named by `file`.",
#if FIXTURE_COMPATIBLE == 0
    nullptr,
#else
    compatible,
#endif
    create,
};
}
