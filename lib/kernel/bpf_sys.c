/* bpf_sys: the N-API shim for the kernel backend. Placeholder until the kernel backend fills it. */
#include <node_api.h>

static napi_value init(napi_env env, napi_value exports) { return exports; }

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
