/*
 * ddk.h - the public header of libddk: include this one.
 */
#ifndef DDK_H
#define DDK_H

#include "ddk_base.h"
#include "ddk_rng.h"
#include "ddk_stream.h"
#include "ddk_pool.h"
#include "ddk_kinetics.h"
#include "ddk_png.h"
#include "ddk_lsq.h"
#include "ddk_fit.h"
#include "ddk_nn.h"
#include "ddk_train.h"
#include "ddk_model.h"


#endif
