/*
 * ddk_nn.h - the DDK network: a trainable DDK layer, a small perceptron
 * classifier, softmax cross-entropy and two optimisers.
 *
 * Problem.  An input map x (U rows by T steps) goes through
 *
 *   DDK layer     z = DDK(x; alpha, beta)          K*U*T features
 *   feature norm  f = (z - mean) * inv_std         optional, fixed
 *   hidden l      h = act(BN(W h' + b))            BN optional
 *   output        p = softmax(W h + b)             C classes
 *
 * and (alpha, beta, W, b, BN gamma and shift) are learned by minimising
 * the mean cross-entropy over mini-batches (Shi et al., Nature
 * Communications 16, 2025: the kinetics of one memristor as the feature
 * learner, a perceptron as the classifier).  The DDK layer has one shared
 * pair per channel (the paper's default, 2 parameters) or a pair per row;
 * K channels give K feature maps of the same input.  Without the DDK
 * layer (use_ddk 0) the classifier sees x itself: the ablation.
 *
 * Method.  Every layer has a forward and a backward of the same stem,
 * side by side in nn.c, working on a batch of B examples stored
 * row-major (B x n).  Dense layers keep the weight w as n_out x n_in
 * (as nn.Linear).  Each gradient element is summed in a fixed order
 * (examples in order for dw, rows of w in order for dx) and the
 * forward's dot products use eight explicit lanes of partial sums, with
 * no fused multiply-add, so no sum is ever reordered by a vectoriser:
 * the result does not depend on the vector width or the blocking, and
 * training is deterministic on every machine.
 *
 * Initialisation (ddk_net_init): dense weights and biases uniform in
 * +-1/sqrt(n_in) (the scheme of PyTorch's nn.Linear); BN gamma 1, shift
 * 0, running mean 0, running variance 1; alpha and beta at given values
 * or uniform in their bounds.
 *
 * Optimisers: SGD with momentum (v = mu v + g; p -= lr v) and Adam
 * (Kingma and Ba; beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected), with
 * L2 weight decay (g += wd p) on dense weights only.  After each step
 * alpha and beta are clamped into their bounds.  A step with a gradient
 * that is not finite is skipped whole (ddk_optim_step): a NaN or
 * infinite gradient never reaches a parameter or a moment.
 *
 * Batch normalisation: batch mean and biased variance in training,
 * running estimates (momentum 0.1, unbiased variance) in evaluation,
 * eps 1e-5, as PyTorch's BatchNorm1d (a model file may give another eps,
 * e.g. Keras's 1e-3).
 *
 * Ownership.  ddk_net_new allocates everything the network needs,
 * including a workspace for batches of up to batch_cap examples;
 * ddk_net_free releases it and clears the pointer.  The layer functions
 * allocate nothing and write only their outputs.
 * Errors.  Constructors return DDK_ENOMEM or DDK_EINVAL with err filled
 * and leave nothing allocated; the compute functions cannot fail.
 */
#ifndef DDK_NN_H
#define DDK_NN_H

#include <stddef.h>
#include <stdint.h>
#include "ddk_base.h"
#include "ddk_kinetics.h"
#include "ddk_rng.h"

#define DDK_NN_MAX_HIDDEN 8
#define DDK_BN_EPS 1e-5f
#define DDK_BN_MOMENTUM 0.1f
#define DDK_FNORM_EPS 1e-8   /* inv_std = 1 / sqrt(var + eps) */

typedef enum ddk_activation {
	DDK_ACT_IDENTITY = 0, DDK_ACT_SIGMOID, DDK_ACT_TANH, DDK_ACT_RELU
} ddk_activation;

/* "identity", "sigmoid", "tanh", "relu"; parse returns -1 when unknown. */
const char *ddk_activation_name(ddk_activation a);
int ddk_activation_parse(const char *s);

/* --- layer building blocks (B examples, row-major) --- */

/* y (B x n_out) = x (B x n_in) w^T + b, w n_out x n_in. */
void ddk_dense_forward(const float *x, size_t B, size_t n_in, size_t n_out,
                       const float *w, const float *b, float *y);
/* ADD dL/dw and dL/db into dw and db; write dL/dx (B x n_in) unless dx
 * is NULL. */
void ddk_dense_backward(const float *x, const float *dy, size_t B,
                        size_t n_in, size_t n_out, const float *w,
                        float *dw, float *db, float *dx);
/* Each sum of the two above is a fixed sequence of fused multiply-adds
 * (one rounding per term), so the bits do not depend on the machine.
 * Choose the widest path they may take, for tests that compare them: 0
 * the portable loops (fmaf), 1 AVX2 with FMA, 2 also AVX-512 for the
 * backward products (the default); each where the CPU has it.  Not
 * thread-safe. */
void ddk_dense_use_simd(int level);

/* y = act(x) elementwise over n values (y may be x). */
void ddk_act_forward(ddk_activation a, const float *x, size_t n, float *y);
/* dx = dy * act'(.) from the forward output y (dx may be dy). */
void ddk_act_backward(ddk_activation a, const float *y, const float *dy,
                      size_t n, float *dx);

/* Training forward over B >= 2 examples of n features: xhat and y are
 * B x n, mean and inv_std (n) receive the batch statistics; eps is added
 * to the variance. */
void ddk_bn_forward(const float *x, size_t B, size_t n, const float *gamma,
                    const float *shift, float eps, float *xhat, float *y,
                    float *mean, float *inv_std);
/* ADD dL/dgamma, dL/dshift; write dL/dx (B x n). */
void ddk_bn_backward(const float *xhat, const float *dy, size_t B, size_t n,
                     const float *gamma, const float *inv_std,
                     float *dgamma, float *dshift, float *dx);
/* Evaluation forward with running statistics. */
void ddk_bn_forward_eval(const float *x, size_t B, size_t n,
                         const float *gamma, const float *shift,
                         const float *run_mean, const float *run_var,
                         float eps, float *y);

/* Softmax of logits (B x C) into probs; when labels is not NULL return
 * the mean cross-entropy, write its gradient into dlogits (unless NULL)
 * and count correct argmax predictions into *right (unless NULL). */
double ddk_softmax_xent(const float *logits, const int *labels, size_t B,
                        size_t C, float *probs, float *dlogits,
                        size_t *right);

/* The DDK layer's shape and parameters. */
typedef struct ddk_ddk_layer {
	ddk_mode mode;
	int per_row;          /* a pair per row (K*U pairs), else K pairs */
	size_t K, U, T;
	const float *alpha, *beta;
} ddk_ddk_layer;

/* x (B x U*T) to z (B x K*U*T, channel-major inside an example).  work
 * holds 2*B*U*(T+1) floats. */
void ddk_ddk_forward(const ddk_ddk_layer *L, const float *x, size_t B,
                     float *z, float *work);
/* ADD dL/dalpha, dL/dbeta (one per pair) from dz (B x K*U*T).  work
 * holds 2*U*T floats (less than the forward's).  The same adjoint as
 * ddk_map_backward, arranged for a batch: the carry runs rows side by
 * side, every other term along the steps. */
void ddk_ddk_backward(const ddk_ddk_layer *L, const float *x,
                      const float *z, const float *dz, size_t B,
                      double *dalpha, double *dbeta, float *work);

/* --- the network --- */

typedef struct ddk_net_config {
	uint32_t rows, cols;        /* input map U x T */
	int use_ddk;                /* 0: the classifier sees x itself */
	ddk_mode mode;
	int per_row;
	size_t channels;            /* K >= 1 */
	double alpha_lo, alpha_hi, beta_lo, beta_hi;
	int feature_norm;
	size_t n_hidden;
	size_t hidden[DDK_NN_MAX_HIDDEN];
	ddk_activation act;
	int batchnorm;
	size_t n_classes;           /* C >= 2 */
} ddk_net_config;

/* The defaults: shared RESET pair in [0, 1], one channel, no hidden
 * layer, sigmoid, no BN, no feature norm; rows, cols, n_classes 0. */
void ddk_net_config_default(ddk_net_config *c);

/* One trainable array and its optimiser state. */
typedef struct ddk_param {
	float *v, *g;               /* value, gradient (n each) */
	float *m1, *m2;             /* momentum / Adam moments */
	size_t n;
	int decay;                  /* weight decay applies */
	int bounded;
	float lo, hi;
	int frozen;                 /* skipped by the optimiser */
} ddk_param;

typedef struct ddk_dense {
	size_t n_in, n_out;
	float *w;                   /* n_out x n_in */
	float *b;                   /* n_out */
} ddk_dense;

typedef struct ddk_bnorm {
	size_t n;
	float eps;                  /* added to the variance: DDK_BN_EPS */
	float *gamma, *shift;       /* parameters */
	float *run_mean, *run_var;  /* running estimates */
} ddk_bnorm;

typedef struct ddk_net_work ddk_net_work;

typedef struct ddk_net {
	ddk_net_config cfg;
	size_t n_in;                /* U*T */
	size_t n_feat;              /* classifier inputs: K*U*T or U*T */
	size_t n_pairs;             /* K or K*U; 0 without DDK */
	float *alpha, *beta;        /* n_pairs each */
	float *fn_mean, *fn_inv_std;  /* n_feat each, with feature_norm */
	size_t n_dense;             /* n_hidden + 1 */
	ddk_dense dense[DDK_NN_MAX_HIDDEN + 1];
	ddk_bnorm bn[DDK_NN_MAX_HIDDEN];
	ddk_param param[2 + 4 * DDK_NN_MAX_HIDDEN + 2];
	size_t n_param;             /* DDK pair first (when present) */
	size_t batch_cap;
	ddk_net_work *work;
} ddk_net;

/* Allocate a network for cfg with a workspace for batch_cap examples.
 * Parameters are zero until ddk_net_init.  DDK_EINVAL names a bad
 * field of cfg. */
ddk_status ddk_net_new(const ddk_net_config *cfg, size_t batch_cap,
                       ddk_net **out, ddk_err *err);
void ddk_net_free(ddk_net **net);

/* Random initialisation from g; alpha0/beta0 set every pair when they
 * are not NaN (they must lie in the bounds). */
void ddk_net_init(ddk_net *net, ddk_rng *g, double alpha0, double beta0);

/* Copy every parameter and statistic of src into dst (same config). */
void ddk_net_copy(ddk_net *dst, const ddk_net *src);

/* Forward B <= batch_cap examples x (B x n_in).  train 1 uses batch
 * statistics in BN (B >= 2) and keeps what backward needs.  Returns the
 * logits (B x C) inside the workspace, valid until the next call. */
const float *ddk_net_forward(ddk_net *net, const float *x, size_t B,
                             int train);

/* After a training forward: zero the gradients, take the cross-entropy
 * with labels, run every backward and update BN running statistics.
 * Returns the mean loss; *right counts correct predictions. */
double ddk_net_backward(ddk_net *net, const float *x, const int *labels,
                        size_t B, size_t *right);

/* Class probabilities (B x C) of B examples in evaluation mode. */
void ddk_net_predict(ddk_net *net, const float *x, size_t B, float *probs);

/* Feature-norm statistics over a whole set, a batch at a time:
 * begin, add every batch, end (end sets fn_mean and fn_inv_std). */
void ddk_net_fnorm_begin(ddk_net *net, double *acc);
void ddk_net_fnorm_add(ddk_net *net, const float *x, size_t B, double *acc);
void ddk_net_fnorm_end(ddk_net *net, const double *acc, size_t n);
/* acc must hold this many doubles. */
size_t ddk_net_fnorm_acc_size(const ddk_net *net);

/* Trainable parameters and multiply-accumulates per inference, split
 * into the DDK part (one operation per DDK step) and the classifier. */
typedef struct ddk_net_cost {
	uint64_t ddk_params, ddk_ops;
	uint64_t norm_consts, norm_ops;
	uint64_t clf_params, clf_macs;
} ddk_net_cost;
void ddk_net_cost_of(const ddk_net *net, ddk_net_cost *c);

/* All state as one float vector (parameters, BN running statistics,
 * feature-norm statistics): for snapshots and checkpoints. */
size_t ddk_net_state_size(const ddk_net *net);
void ddk_net_state_get(const ddk_net *net, float *s);
void ddk_net_state_set(ddk_net *net, const float *s);

/* --- optimisers --- */

typedef enum ddk_optim_kind { DDK_OPT_SGD = 0, DDK_OPT_ADAM } ddk_optim_kind;

typedef struct ddk_optim {
	ddk_optim_kind kind;
	double lr;                  /* base learning rate, > 0 */
	double momentum;            /* SGD */
	double weight_decay;
	double beta1, beta2, eps;   /* Adam */
	uint64_t t;                 /* steps taken */
	uint64_t skipped;           /* steps refused: a gradient not finite */
} ddk_optim;

void ddk_optim_default(ddk_optim *o, ddk_optim_kind kind);

/* One step with learning rate lr on every unfrozen parameter, then clamp
 * bounded ones; returns 0.  When any gradient of an unfrozen parameter
 * is NaN or infinite (the DDK layer's can overflow where beta^2 > 2
 * alpha), the whole step is refused instead: no parameter, moment or
 * step count t changes, o->skipped counts it, and the call returns 1, so
 * the next finite step is the one it would have been without it.  The
 * scan costs one pass over the gradients. */
int ddk_optim_step(ddk_optim *o, ddk_net *net, double lr);

#endif
