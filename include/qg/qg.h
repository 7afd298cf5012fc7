/* qgraph umbrella header: include this to get the whole public C API
 * (types and errors, tensors, graph building, backends and the scheduler, GGUF,
 * safetensors, model loading). */
#ifndef QG_QG_H
#define QG_QG_H

#include "qg/core.h"
#include "qg/tensor.h"
#include "qg/graph.h"
#include "qg/plugin.h"
#include "qg/backend.h"
#include "qg/gguf.h"
#include "qg/safetensors.h"
#include "qg/model.h"

#endif
