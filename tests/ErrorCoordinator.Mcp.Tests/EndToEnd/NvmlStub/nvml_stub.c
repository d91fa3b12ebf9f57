/*
 * A stand-in libnvidia-ml.so.1 with two scripted GPUs, so the real binding (LibraryImport stubs, function pointers,
 * struct layouts and versions, nvmlErrorString's static buffer, the event thread) runs end to end on a host without
 * a GPU. Built by the end-to-end test with: cc -shared -fPIC -o libnvidia-ml.so.1 nvml_stub.c
 *
 * GPU 0: 78 of 80 GiB used (gpu_oom), 50 C (slowdown 90), software power cap, 2 processes (the second with memory
 *        not available), retired pages NOT_SUPPORTED, one XID 79 event. GPU 1: a MIG-style device: utilization,
 *        thresholds, ECC, retired pages and remapped rows NOT_SUPPORTED, 91 C.
 * Only the older nvmlDeviceGetCurrentClocksThrottleReasons is exported, to exercise the fallback.
 */
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;
typedef void *nvmlEventSet_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; } nvmlProcessInfo_t;
typedef struct { nvmlDevice_t device; unsigned long long eventType, eventData; unsigned int gpuInstanceId, computeInstanceId; } nvmlEventData_t;

#define OK 0
#define NOT_SUPPORTED 3
#define INVALID_ARGUMENT 2
#define INSUFFICIENT_SIZE 7
#define TIMEOUT 10
#define ARGUMENT_VERSION_MISMATCH 25
#define GIB (1024ULL * 1024ULL * 1024ULL)

static int devices[2];
static int initialised;
static int events_sent;

static int index_of(nvmlDevice_t d) { return d == &devices[0] ? 0 : d == &devices[1] ? 1 : -1; }

nvmlReturn_t nvmlInit_v2(void) { initialised = 1; return OK; }
nvmlReturn_t nvmlShutdown(void) { initialised = 0; return OK; }

const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case OK: return "Success";
    case NOT_SUPPORTED: return "Not Supported";
    case INVALID_ARGUMENT: return "Invalid Argument";
    case ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  if (length < 16) return INSUFFICIENT_SIZE;
  strcpy(version, "999.99.99-stub");
  return OK;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) { *count = 2; return OK; }

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  if (index > 1) return INVALID_ARGUMENT;
  *device = &devices[index];
  return OK;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  if (length < 32) return INSUFFICIENT_SIZE;
  strcpy(name, i == 0 ? "Stub GPU A 80GB" : "Stub GPU B MIG 1g.10gb");
  return OK;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  if (length < 48) return INSUFFICIENT_SIZE;
  strcpy(uuid, i == 0 ? "GPU-5705b000-0000-0000-0000-000000000000" : "GPU-5705b001-0000-0000-0000-000000000001");
  return OK;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  if (m->version != 0x02000028) return ARGUMENT_VERSION_MISMATCH;
  m->total = i == 0 ? 80 * GIB : 10 * GIB;
  m->used = i == 0 ? 78 * GIB : 1 * GIB;
  m->reserved = 0;
  m->free = m->total - m->used;
  return OK;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t) {
  int i = index_of(d);
  if (i < 0 || sensor != 0) return INVALID_ARGUMENT;
  *t = i == 0 ? 50 : 91;
  return OK;
}

nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t d, int type, unsigned int *t) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  if (i == 1) return NOT_SUPPORTED;
  if (type == 0) { *t = 95; return OK; }   /* shutdown */
  if (type == 1) { *t = 90; return OK; }   /* slowdown */
  return NOT_SUPPORTED;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  if (i == 1) return NOT_SUPPORTED;
  u->gpu = 77;
  u->memory = 33;
  return OK;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) { if (index_of(d) < 0) return INVALID_ARGUMENT; *mw = 250500; return OK; }
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw) { if (index_of(d) < 0) return INVALID_ARGUMENT; *mw = 700000; return OK; }

nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long *reasons) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  *reasons = i == 0 ? 0x4ULL : 0x1ULL;
  return OK;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, int errorType, int counterType, unsigned long long *count) {
  int i = index_of(d);
  if (i < 0 || counterType != 0) return INVALID_ARGUMENT;
  if (i == 1) return NOT_SUPPORTED;
  *count = errorType == 0 ? 3 : 0;
  return OK;
}

nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t d, int *pending) { (void)pending; return index_of(d) < 0 ? INVALID_ARGUMENT : NOT_SUPPORTED; }

nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t d, unsigned int *corr, unsigned int *unc, unsigned int *pending, unsigned int *failure) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  if (i == 1) return NOT_SUPPORTED;
  *corr = 1; *unc = 0; *pending = 0; *failure = 0;
  return OK;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  unsigned int n = i == 0 ? 2 : 0;
  if (*count < n || (n > 0 && infos == NULL)) { *count = n; return INSUFFICIENT_SIZE; }
  *count = n;
  if (n == 2) {
    infos[0].pid = 4242; infos[0].usedGpuMemory = 70 * GIB; infos[0].gpuInstanceId = 0xFFFFFFFF; infos[0].computeInstanceId = 0xFFFFFFFF;
    infos[1].pid = 4343; infos[1].usedGpuMemory = 0xFFFFFFFFFFFFFFFFULL; infos[1].gpuInstanceId = 0xFFFFFFFF; infos[1].computeInstanceId = 0xFFFFFFFF;
  }
  return OK;
}

static int the_set;
nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) { *set = &the_set; return OK; }
nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t d, unsigned long long *types) {
  int i = index_of(d);
  if (i < 0) return INVALID_ARGUMENT;
  if (i == 1) return NOT_SUPPORTED;
  *types = 0xFULL;
  return OK;
}
nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long types, nvmlEventSet_t set) {
  return index_of(d) == 0 && set == &the_set && (types & ~0xFULL) == 0 ? OK : INVALID_ARGUMENT;
}
nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
  if (set != &the_set) return INVALID_ARGUMENT;
  if (!events_sent) {
    events_sent = 1;
    memset(data, 0, sizeof *data);
    data->device = &devices[0];
    data->eventType = 0x8ULL;   /* XID critical error */
    data->eventData = 79;       /* fallen off the bus */
    return OK;
  }
  usleep((timeoutms < 50 ? timeoutms : 50) * 1000);
  return TIMEOUT;
}
nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) { return set == &the_set ? OK : INVALID_ARGUMENT; }
