//===- ConvAlgorithms.h - Convolution algorithms: where each applies ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The one definition of dlc's convolution algorithms (docs/convolution.md):
// for each algorithm and direction, whether it computes a given 2-D
// convolution (and if not, why), its workspace and the work it does. The
// compiler's selection pass (dl-select-conv-algorithms) reads it to choose
// and to refuse forced choices at compile time; the runtime kernels read the
// same plans to size their buffers; the cost model turns the work into time.
//
// Plain C++ (no MLIR, no exceptions): linked by the compiler and the runtime.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_OPS_CONVALGORITHMS_H
#define DLC_OPS_CONVALGORITHMS_H

#include "dlc/Ops/Ops.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::ops {

/// The three computations of a convolution layer.
enum class ConvDirection { Forward, BackwardData, BackwardWeights };
inline constexpr ConvDirection kConvDirections[] = {
    ConvDirection::Forward, ConvDirection::BackwardData, ConvDirection::BackwardWeights};
/// "forward", "backward-data", "backward-weights".
const char *convDirectionName(ConvDirection d);
std::optional<ConvDirection> parseConvDirection(std::string_view name);

/// The work one algorithm does for one problem (one direction of one layer,
/// the whole batch), which the cost model turns into time.
struct ConvWork {
  /// Floating-point operations done inside GEMMs (2 per multiply-add;
  /// complex products counted as their real multiply-adds).
  double gemmFlops = 0;
  /// The smallest of the typical GEMM's M, N and K: small GEMMs run far
  /// below the machine's peak.
  double gemmMinDim = 0;
  /// How many GEMM calls the work is split into (per-call overhead).
  double gemmCalls = 0;
  /// Other arithmetic (transforms, im2col, reductions), vectorizable.
  double otherFlops = 0;
  /// Bytes read and written outside the GEMMs (transforms, im2col buffers,
  /// the tensors themselves).
  double bytes = 0;
  /// Scratch memory the algorithm allocates, in bytes.
  int64_t workspaceBytes = 0;
};

/// One 2-D convolution problem: a direction of a (non-deconvolution) layer.
struct ConvProblem {
  std::string layer;          ///< the prototxt layer name
  ConvDirection direction = ConvDirection::Forward;
  ConvGeometry geometry;
  int block = 0;              ///< channel block of the activations (0: plain)
  /// The forward runs inside a fused kernel whose post-ops (bias, folded
  /// BatchNorm/Scale, sum, activations) are free for `direct` only.
  int fusedPostOps = 0;
  /// Cache key: geometry and direction, independent of the layer name.
  std::string shapeKey() const;
};

/// How an algorithm's measured time compared with the analytic estimate on
/// one calibration problem (convCalibrationProblems) of this machine.
struct ConvCalibration {
  std::string algorithm;
  ConvDirection direction = ConvDirection::Forward;
  double channels = 0;        ///< convCalibrationChannels of the problem
  double factor = 1;          ///< measured seconds / analyticSeconds
  /// Measured on a narrow problem (isNarrowConv): those calibrate narrow
  /// problems only, the others the rest.
  bool narrow = false;
  /// Measured in the plain layout: those calibrate plain-layout problems
  /// (block 0), the others channel-blocked ones (the kernels that index
  /// plain planes pay for copies there; oneDNN's direct kernels do not).
  bool plain = false;
};

/// A machine's rates that the cost model uses (measured and stored per
/// machine by the tuner; defaults when unmeasured).
struct MachineRates {
  double gemmGflops = 100;      ///< large SGEMM, all threads
  double vectorGflops = 30;     ///< streaming vector arithmetic
  double bandwidthGBs = 10;     ///< memory copy bandwidth
  double callSeconds = 2e-6;    ///< overhead per GEMM call
  /// Direct convolution's efficiency relative to large SGEMM.
  double directEfficiency = 0.6;
  /// oneDNN has a Winograd convolution on this machine (probed; oneDNN 2.6
  /// has none on AVX2 and on some AVX-512 CPUs).
  bool onednnWinograd = false;
  /// Per algorithm and direction, measured / estimated time on the
  /// calibration problems; the model scales its estimates by these,
  /// interpolated over the channel count (empty: unscaled).
  std::vector<ConvCalibration> calibration;
  std::string source = "default";
};
/// What an algorithm declares about itself.
struct ConvAlgorithmInfo {
  std::string_view name;      ///< as given to --conv-algo
  std::string_view summary;
  /// "" when the algorithm computes `p` on a machine with `m`, else the
  /// reason it does not (a sentence fragment: "the stride is 2 (FFT needs
  /// stride 1)").
  std::string (*whyNot)(const ConvProblem &p, const MachineRates &m);
  /// The work for `p` (only called when whyNot(p) is "").
  ConvWork (*work)(const ConvProblem &p);
  /// Max |error| relative to the output's magnitude expected against
  /// float64 on unit-scale random data (docs/convolution.md).
  double tolerance;
};

/// Every algorithm, in a fixed order ("direct" first: the baseline).
const std::vector<ConvAlgorithmInfo> &convAlgorithms();
/// nullptr for an unknown name. "winograd" is an alias of "winograd4".
const ConvAlgorithmInfo *findConvAlgorithm(std::string_view name);
/// "direct, gemm, fft, ..." for messages.
std::string convAlgorithmNames();

/// The analytic estimate of `w`'s time in seconds.
double estimateSeconds(const ConvWork &w, const MachineRates &rates);
/// The analytic estimate of `algorithm` doing `w` (oneDNN's kernels at the
/// machine's measured direct-convolution efficiency), before calibration.
double analyticSeconds(std::string_view algorithm, const ConvWork &w, const MachineRates &rates);

/// The problems the cost model is calibrated on, once per machine and per
/// layout class (the machine's channel block, and plain): 3x3
/// stride-1 convolutions with 3 channels in and 16 out (a first layer,
/// where `sliding` applies), few (16), some (64) and many (256) channels,
/// and a narrow 1x1 one (100 channels in, 1 out, batch 1, 16x128), in
/// activation layout `block`, in every direction.
std::vector<ConvProblem> convCalibrationProblems(int block);
/// Fewer output channels per group than a vector block of 8: oneDNN's
/// direct kernels leave most lanes idle there, a regime of its own for the
/// calibration (docs/convolution.md).
bool isNarrowConv(const ConvProblem &p);
/// The channel count calibration interpolates over: the geometric mean of
/// the input and output channels per group.
double convCalibrationChannels(const ConvProblem &p);
/// The factor by which `rates` scales the analytic estimate of `algorithm`
/// in `p`'s direction: the calibration factors of that algorithm and
/// direction measured on problems of `p`'s kind, narrow (isNarrowConv) or
/// not and in `p`'s layout class (plain or blocked), else of its kind in the
/// other layout, else in its layout, else all of them; interpolated linearly
/// in log(channels) and log(factor), constant beyond the calibrated range; 1
/// when there are none.
double calibrationFactor(const MachineRates &rates, std::string_view algorithm,
                         const ConvProblem &p);

/// One algorithm's evaluation for one problem.
struct ConvCandidate {
  std::string algorithm;
  std::string whyNot;         ///< non-empty: the algorithm does not apply
  ConvWork work;              ///< when it applies
  double seconds = -1;        ///< estimated or measured time (< 0: unknown)
  /// Max |result - direct's| / max |direct's| on random data (< 0: not run).
  double maxError = -1;
  /// Where `seconds` comes from: "model", "measured", "cache", "table".
  std::string source;
};

/// Every algorithm for `p`, in catalog order, with whyNot and work filled.
std::vector<ConvCandidate> convCandidates(const ConvProblem &p, const MachineRates &m);

/// Evaluates the applicable candidates of a problem: the analytic cost model
/// (the default), a fixed table (deterministic tests), or the tuner, which
/// times the kernels on the real shapes and keeps a cache (dlc compile
/// --tune; lib/Tuning).
class ConvCostOracle {
public:
  virtual ~ConvCostOracle();
  /// Fills seconds, maxError and source of the applicable candidates.
  /// Returns "" or an error that fails the compilation (e.g. a layer missing
  /// from the cache under --require-cache).
  virtual std::string evaluate(const ConvProblem &p, std::vector<ConvCandidate> &candidates) = 0;
  /// One line on what this oracle is ("cost model (rates measured ...)").
  virtual std::string describe() const = 0;
  /// The machine the candidates are for (which algorithms exist there).
  virtual const MachineRates &rates() const = 0;
};

/// The analytic cost model at `rates`.
std::unique_ptr<ConvCostOracle> createCostModelOracle(const MachineRates &rates);
/// Fixed times: "LAYER/DIRECTION/ALGORITHM=MS,..." (DIRECTION and LAYER may
/// be "*"); candidates the table does not name get no time and are not
/// chosen. Returns nullptr and sets `error` on a malformed table.
std::unique_ptr<ConvCostOracle> createTableOracle(std::string_view table, std::string &error);

/// im2col + SGEMM (lib/Runtime/Dnnl/ConvGemm.cpp): the batch is taken
/// `chunk` images at a time, so that each GEMM's columns span chunk * pixels
/// output positions (one GEMM per group and chunk, not per image), and a
/// chunk's buffers fit a core's L2 cache (kGemmChunkBytes): the threads take
/// chunks side by side, each with its own buffers (the sizes below are per
/// thread):
/// - forward: col [G*kdim, chunk*pixels] (rows: channel, tap), per group
///   Y [O/G, chunk*pixels] = W[g] * col[g], copied into y's images (+ bias);
///   with chunk = 1 the GEMM writes y itself;
/// - backward data: dyT [O, chunk*pixels] (dy's images side by side; dy
///   itself when chunk = 1), col[g] = W[g]^T * dyT[g], col2im into dx;
/// - backward weights: col as forward, dyT as backward data, acc[g] (kdim x
///   O/G) += col[g] * dyT[g]^T per thread, dW the transpose of the threads'
///   sum (with col as the transposed operand the SGEMM ran 4x slower).
/// A 1x1, stride-1, unpadded forward or backward data needs no im2col:
/// GEMMs per image on x (dx) itself, no workspace.
struct GemmPlan {
  int64_t kdim = 0;           ///< C/G * kh * kw: the reduction over taps
  int64_t pixels = 0;         ///< OH * OW
  int64_t chunk = 1;          ///< images per GEMM
  bool noIm2col = false;      ///< per-image GEMMs on x / dx, no workspace
  int64_t colFloats = 0;      ///< column buffer: G * kdim * chunk * pixels
  int64_t stageFloats = 0;    ///< y / dy staged: O * chunk * pixels (0 if not staged)
  int64_t accFloats = 0;      ///< backward weights: the transposed dW, O * kdim
  ConvWork work;
};
/// Column and staging buffers of one chunk stay within this (at least one
/// image): half of a core's L2 on current x86 server CPUs (1-2 MiB). 256 KiB
/// and 1 MiB were slower on LeNet's convolutions (AMD EPYC Zen 5, 2 threads).
inline constexpr int64_t kGemmChunkBytes = int64_t(512) << 10;
GemmPlan gemmPlan(const ConvProblem &p);

/// dlc's sliding-window convolution (lib/Runtime/Dnnl/ConvSliding.cpp) for
/// stride-1 layers with at most kSlidingMaxChannels input channels (the
/// first layers of LeNet, CIFAR and VGG nets), whose few channels leave
/// oneDNN's direct kernels and im2col's short GEMMs far below the machine's
/// peak. An image is copied into zero-padded planes of rowWidth = W + 2 pw
/// floats a row, and output position p = oy * rowWidth + ox ("wide": the
/// kw - 1 positions past each row's end are computed and dropped) reads tap
/// t = (c, ki, kj) at p + c * planeFloats + ki * rowWidth + kj, so 16
/// positions are one vector load for every tap:
/// - forward: per image and segment of positions, blocks of kSlidingRows
///   output channels x kSlidingVectors vectors in registers, the weights
///   broadcast, written to the output rows with the bias;
/// - backward weights: dy copied to the same wide rows (0 past each row's
///   end), per segment blocks of kSlidingGradRows channels x kSlidingTapBlock
///   taps of 16-lane sums in registers, added to the thread's sums; dW and db
///   sum the threads' (in thread order). No backward-data.
/// The threads take (image, segment) pairs side by side; sizes per thread.
inline constexpr int64_t kSlidingMaxChannels = 4;
inline constexpr int64_t kSlidingLanes = 16, kSlidingVectors = 4, kSlidingRows = 6;
inline constexpr int64_t kSlidingGradRows = 4, kSlidingTapBlock = 5;
struct SlidingPlan {
  int64_t rowWidth = 0;       ///< W + 2 pw
  int64_t positions = 0;      ///< OH * rowWidth, in whole blocks of kSlidingVectors vectors
  int64_t segment = 0;        ///< positions per segment (a multiple of the block)
  int64_t planeFloats = 0;    ///< a padded plane and the taps' overhang past it
  int64_t taps = 0;           ///< C * kh * kw
  int64_t tapsPadded = 0;     ///< backward weights: taps in whole kSlidingTapBlock blocks
  int64_t workspaceFloats = 0; ///< per thread: the padded image, staged output or dy, sums
  ConvWork work;
};
SlidingPlan slidingPlan(const ConvProblem &p);

// The plans of the transform algorithms, shared by the catalog and the
// kernels (lib/Ops/Winograd.cpp, lib/Ops/Fft.cpp).

/// Winograd F(m x m, 3 x 3) for forward and backward data, and
/// F(3 x 3, m x m) for backward weights (the same tile size alpha = m + 2).
struct WinogradPlan {
  std::string whyNot;         ///< "" when applicable
  int m = 0, alpha = 0;       ///< output tile, transform tile (m + 2)
  int64_t tilesH = 0, tilesW = 0; ///< tiles per image
  int64_t tileBatch = 0;      ///< tiles transformed per GEMM batch
  ConvWork work;
};
WinogradPlan winogradPlan(const ConvProblem &p, int m);

/// Transform sizes up to this are computed as DFT matrix products (GEMMs),
/// larger ones with kissfft (lib/Runtime/Dnnl/FftTransforms.h).
inline constexpr int64_t kFftMaxDftSize = 64;

/// FFT convolution: tiles of the padded input of size `fft` x `fft`
/// (overlap-save; one tile when the image fits), per-frequency complex
/// GEMMs over channels.
struct FftPlan {
  std::string whyNot;         ///< "" when applicable
  int64_t fftH = 0, fftW = 0; ///< transform size
  int64_t tileH = 0, tileW = 0; ///< outputs per tile
  int64_t tilesH = 0, tilesW = 0; ///< tiles per image
  ConvWork work;
};
FftPlan fftPlan(const ConvProblem &p);

} // namespace dlc::ops

#endif // DLC_OPS_CONVALGORITHMS_H
