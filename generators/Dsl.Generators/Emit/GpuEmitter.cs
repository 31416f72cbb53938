using System.Globalization;
using System.Linq;
using Dsl.Generators.Graph;
using Dsl.Generators.Model;

namespace Dsl.Generators.Emit;

/// <summary>
/// Writes a network's GPU path (ILGPU): the host/device bookkeeping members of the network class and the
/// nested <c>GpuPath</c> class that owns the device buffers, the kernel launchers (loaded once when the
/// network is created, specialised by activation struct and by a struct per layer holding its widths as
/// literals) and the launch sequence of a step, derived from the same <see cref="NetworkPlan"/> as the CPU sequence.
/// </summary>
/// <remarks>
/// Two sequences are written. The layer-by-layer one launches, per layer, a tiled GEMM whose epilogue adds
/// the bias and applies the activation, and in the backward a GEMM for dW, a bias reduction and a GEMM for
/// dX with the previous activation's derivative fused. The fully fused one (when the runtime's
/// <c>FusedMlp.Fits</c> accepts the layer shapes, written here as constants) is one launch for the whole
/// forward, loss and backward per batch tile. DSL_GPU_FUSED=0 or 1 forces either when the network is created.
/// </remarks>
internal static class GpuEmitter
{
    /// <summary>Fields of the network class that track which copy (host or device) is current.</summary>
    public static void EmitFields(SourceWriter w)
    {
        w.Line("// GPU devices only: the device copies and launch sequence, null on the CPU backend. The device copy of the");
        w.Line("// parameters is the one training updates; the host copy (_parameters) is refreshed when user code reads it.");
        w.Line("private readonly GpuPath? _gpu;");
        w.Line("private bool _deviceParametersStale = true; // the host copy changed (initialised, reset, or handed out writable)");
        w.Line("private bool _hostParametersStale;          // the device copy changed (an optimizer step)");
        w.Line("private bool _hostGradientsStale;           // the device holds newer gradients");
        w.Line("private float _lastLoss = float.NaN;        // the mean loss of the last step that completed");
        w.Line();
    }

    /// <summary>The members shared by both paths that deal with device residency.</summary>
    public static void EmitMembers(SourceWriter w, NetworkPlan plan)
    {
        bool classifier = plan.Spec.Loss == LossKind.SoftmaxCrossEntropy;
        string targetName = classifier ? "labels" : "targets";

        w.Doc("<summary>\nThe mean loss of the last <c>TrainStep</c> or <c>ComputeGradients</c> that completed (NaN before the first). Every\nstep reads its loss to check it before it changes anything, so this costs nothing, on a GPU too.\n</summary>");
        w.Line("public float LastLoss => _lastLoss;");
        w.Line();

        string dataKind = classifier ? "labels" : "targets";
        w.Doc($"<summary>\nOne training step on rows [<paramref name=\"start\"/>, start + count) of a data set kept on this network's device:\non a GPU the batch is not copied; the step waits once for its forward pass, to read and check its loss (one float)\nbefore it queues the backward pass and the update. Arguments are checked before anything changes; the data set's\nvalues were checked finite when it was created.\n</summary>\n<param name=\"data\">Inputs (n, {I(plan.InputSize)}) and {dataKind}, created on this network's device.</param>\n<exception cref=\"global::System.ArgumentException\">The data lives on another device or holds the wrong kind of targets.</exception>\n<exception cref=\"global::Dsl.ShapeMismatchException\">The data's widths differ from the network's.</exception>\n<exception cref=\"global::System.ArgumentOutOfRangeException\">The rows are not inside the data set.</exception>\n<exception cref=\"global::Dsl.EmptyBatchException\">count is 0.</exception>\n<exception cref=\"global::Dsl.NonFiniteLossException\">The loss is NaN or infinite; nothing was changed.</exception>");
        w.Line("public void TrainStep(global::Dsl.DeviceDataSet data, int start, int count, global::Dsl.Training.Optimizer optimizer)");
        w.OpenBrace();
        w.Line("global::System.ArgumentNullException.ThrowIfNull(data);");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(optimizer);");
        w.Line($"data.CheckSlice(_device, InputWidth, OutputWidth, classification: {(classifier ? "true" : "false")}, start, count);");
        w.Line("optimizer.CheckCompatible(_device.Gpu, ParameterTotal);");
        w.Line("if (_gpu is null)");
        w.OpenBrace();
        w.Line(classifier
            ? "TrainStep(data.Inputs.Slice(start * InputWidth, count * InputWidth), data.Labels.Slice(start, count), optimizer);"
            : "TrainStep(data.Inputs.Slice(start * InputWidth, count * InputWidth), data.Targets.Slice(start * OutputWidth, count * OutputWidth), optimizer);");
        w.Line("return;");
        w.CloseBrace();
        w.Line();
        w.Line("UploadParametersIfStale();");
        w.Line($"GpuStep(data.DeviceInputs(start, count), data.Device{(classifier ? "Labels" : "Targets")}(start, count), count, optimizer);");
        w.CloseBrace();
        w.Line();

        w.Doc("<summary>Frees the GPU buffers (nothing to free on the CPU backend). The device itself is not disposed.</summary>");
        w.Line("public void Dispose() => _gpu?.Dispose();");
        w.Line();

        w.Line("void global::Dsl.IHostBufferSync.ParametersToHost()");
        w.OpenBrace();
        w.Line("if (_gpu is null)");
        w.OpenBrace();
        w.Line("return;");
        w.CloseBrace();
        w.Line();
        w.Line("DownloadParametersIfStale();");
        w.Line("// The caller gets a writable span: upload again before the device next reads the parameters.");
        w.Line("_deviceParametersStale = true;");
        w.CloseBrace();
        w.Line();

        w.Line("// Never discards a host write: the flags are never both set, as every device step uploads pending host");
        w.Line("// values before it marks the host copy stale.");
        w.Line("private void DownloadParametersIfStale()");
        w.OpenBrace();
        w.Line("if (_gpu is not null && _hostParametersStale)");
        w.OpenBrace();
        w.Line("_gpu.Parameters.Download(_gpu.Stream, _parameters);");
        w.Line("_hostParametersStale = false;");
        w.CloseBrace();
        w.CloseBrace();
        w.Line();

        w.Line("void global::Dsl.IHostBufferSync.GradientsToHost()");
        w.OpenBrace();
        w.Line("if (_gpu is not null && _hostGradientsStale)");
        w.OpenBrace();
        w.Line("_gpu.Gradients.Download(_gpu.Stream, _gradients);");
        w.Line("_hostGradientsStale = false;");
        w.CloseBrace();
        w.CloseBrace();
        w.Line();

        w.Line("private void UploadParametersIfStale()");
        w.OpenBrace();
        w.Line("if (_deviceParametersStale)");
        w.OpenBrace();
        w.Line("_gpu!.Parameters.Upload(_gpu.Stream, _parameters);");
        w.Line("_deviceParametersStale = false;");
        w.CloseBrace();
        w.CloseBrace();
        w.Line();

        // Host-span entry points on a GPU: copy the batch in, then the step.
        string targetType = classifier ? "int" : "float";
        w.Line($"private float GpuForwardBackward(global::System.ReadOnlySpan<float> inputs, global::System.ReadOnlySpan<{targetType}> {targetName}, int batch, global::Dsl.Training.Optimizer? optimizer)");
        w.OpenBrace();
        w.Line("GpuPath gpu = _gpu!;");
        w.Line("UploadParametersIfStale();");
        w.Line("gpu.EnsureCapacity(batch);");
        w.Line("gpu.StepInputs.Upload(gpu.Stream, inputs);");
        w.Line($"gpu.StepTargets.Upload(gpu.Stream, {targetName});");
        string stepTargets = $"gpu.StepTargets.Slice(0, {(classifier ? "batch" : "batch * OutputWidth")})";
        w.Line($"return GpuStep(gpu.StepInputs.Slice(0, batch * InputWidth), {stepTargets}, batch, optimizer);");
        w.CloseBrace();
        w.Line();

        string targetView = classifier ? "global::ILGPU.ArrayView<int> labels" : "global::ILGPU.ArrayView<float> targets";
        w.Line("// One step on device-resident rows: the forward pass and the loss, then the step's one wait, to read the loss and");
        w.Line("// check it, before anything that changes the gradients, the parameters or the optimizer (optimizer null: gradients only).");
        w.Line($"private float GpuStep(global::ILGPU.ArrayView<float> input, {targetView}, int rows, global::Dsl.Training.Optimizer? optimizer)");
        w.OpenBrace();
        w.Line("GpuPath gpu = _gpu!;");
        w.Line($"gpu.ForwardLoss(input, {targetName}, rows);");
        w.Line("float loss = gpu.ReadLoss();");
        w.Line("global::Dsl.FiniteChecks.Loss(loss);");
        w.Line("gpu.Backward(input, rows, optimizer is null ? global::Dsl.Gpu.GpuParameterUpdate.None : optimizer.BeginDeviceStep(gpu.Gpu, gpu.Stream, gpu.Parameters.View));");
        w.Line("_hostGradientsStale = true;");
        w.Line("_hostParametersStale |= optimizer is not null;");
        w.Line("_lastLoss = loss;");
        w.Line("return loss;");
        w.CloseBrace();
        w.Line();
    }

    /// <summary>The nested class that owns the device buffers, the launchers and the launch sequence.</summary>
    public static void EmitGpuPath(SourceWriter w, NetworkPlan plan)
    {
        bool classifier = plan.Spec.Loss == LossKind.SoftmaxCrossEntropy;
        string targetElement = classifier ? "int" : "float";
        LayerPlan lastLayer = plan.Layers[plan.Layers.Count - 1];
        string last = I(lastLayer.Index);
        bool lastActivated = lastLayer.Layer.Activation != ActivationKind.Identity;

        w.Line("// The GPU path: device buffers, launchers loaded once per network (kernels compile once per accelerator),");
        w.Line("// and the launch sequence. Everything is queued on one stream; only ReadLoss and the downloads wait for it.");
        w.Line("private sealed class GpuPath : global::System.IDisposable");
        w.OpenBrace();
        w.Line("public readonly global::Dsl.Gpu.GpuAccelerator Gpu;");
        w.Line("public readonly global::ILGPU.Runtime.AcceleratorStream Stream;");
        w.Line("public readonly global::Dsl.Gpu.DeviceBuffer<float> Parameters;   // (ParameterTotal), layout of _parameters");
        w.Line("public readonly global::Dsl.Gpu.DeviceBuffer<float> Gradients;    // (ParameterTotal)");
        w.Line($"public readonly global::Dsl.Gpu.DeviceBuffer<float> StepInputs;   // (capacity, {I(plan.InputSize)}): host batches copied in");
        w.Line($"public readonly global::Dsl.Gpu.DeviceBuffer<{targetElement}> StepTargets;  // {(classifier ? "(capacity) labels" : $"(capacity, {I(plan.OutputSize)}) targets")}");
        foreach (LayerPlan layer in plan.Layers)
        {
            string i = I(layer.Index);
            string name = layer.Layer.PropertyName;
            w.Line($"private readonly global::Dsl.Gpu.DeviceBuffer<float> _output{i};          // {name} output (capacity, {I(layer.Units)})");
            if (layer.KeepsPreActivation)
            {
                w.Line($"private readonly global::Dsl.Gpu.DeviceBuffer<float> _preActivation{i};   // {name} pre-activation (capacity, {I(layer.Units)})");
            }

            w.Line($"private readonly global::Dsl.Gpu.DeviceBuffer<float> _dPreActivation{i};  // d loss / d {name} pre-activation (capacity, {I(layer.Units)})");
        }

        if (lastActivated)
        {
            w.Line($"private readonly global::Dsl.Gpu.DeviceBuffer<float> _dOutput;          // d loss / d network output (capacity, {I(plan.OutputSize)})");
        }

        w.Line("private readonly global::Dsl.Gpu.DeviceBuffer<float> _rowLosses;        // (capacity) each row's loss in the last step");
        w.Line("private readonly global::Dsl.Gpu.DeviceBuffer<float> _evaluationLosses; // (capacity) Evaluate's per-row losses");
        if (classifier)
        {
            w.Line("private readonly global::Dsl.Gpu.DeviceBuffer<int> _rowCorrect;         // (capacity) 1 where argmax = label (Evaluate)");
        }

        w.Line("private readonly global::Dsl.Gpu.DeviceBuffer<float> _loss;             // (1) the mean of _rowLosses, read by each step");
        w.Line("private float[] _hostRowLosses = [];");
        if (classifier)
        {
            w.Line("private int[] _hostRowCorrect = [];");
        }

        w.Line("private int _capacity;");
        w.Line("private int _lossRows;   // rows of the last ForwardLoss");
        w.Line();
        w.Line("// Launchers, loaded once (kernels compile once per accelerator). Both sequences need the loss kernel (its");
        w.Line("// evaluation variant) and the reduction; the rest belongs to one sequence and is null under the other.");
        w.Line(classifier ? "private readonly global::Dsl.Gpu.GpuSoftmaxCrossEntropy _lossKernel;" : "private readonly global::Dsl.Gpu.GpuMeanSquaredError _lossKernel;");
        w.Line("private readonly global::Dsl.Gpu.GpuReduction _reduction;");
        w.Line("// The fully fused sequence: one launch for forward, loss and backward, one to sum the groups' gradients and update.");
        w.Line("private readonly global::Dsl.Gpu.FusedMlpLauncher? _fused;");
        w.Line("private readonly global::Dsl.Gpu.FusedMlpPlan _fusedPlan;");
        w.Line("private readonly global::Dsl.Gpu.DeviceBuffer<float> _fusedWorkspace; // (slots, ParameterTotal) each group's gradient sum; empty when layered");
        w.Line("// The layer-by-layer sequence, specialised by widths (constants) and activation structs: dense layer i is _dense{i}.");
        foreach (LayerPlan layer in plan.Layers)
        {
            w.Line($"private readonly {DenseType(plan, layer)}? _dense{I(layer.Index)};");
        }

        w.Line("private readonly global::Dsl.Gpu.GpuBiasGradient? _biasGradient;");
        if (lastActivated)
        {
            w.Line($"private readonly global::Dsl.Gpu.GpuActivationBackward<{GpuActivationType(lastLayer.Layer)}>? _outputActivationBackward;");
        }

        w.Line();

        // Constructor.
        string units = string.Join(", ", plan.Layers.Select(layer => I(layer.Units)));
        string activations = string.Join(", ", plan.Layers.Select(layer => "global::Dsl.Activation." + layer.Layer.Activation));
        w.Line("public GpuPath(global::Dsl.Gpu.GpuAccelerator gpu)");
        w.OpenBrace();
        w.Line("// The sequence first: a bad DSL_GPU_FUSED or DSL_GPU_FUSED_TILE_ROWS throws before any device memory is taken.");
        w.Line($"bool fused = global::Dsl.Gpu.FusedMlpSelection.UseFused(global::Dsl.Gpu.FusedMlp.Fits(InputWidth, [{units}], [{activations}]));");
        w.Line("Gpu = gpu;");
        w.Line("Stream = gpu.Accelerator.DefaultStream;");
        w.Line("Parameters = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, ParameterTotal);");
        w.Line("Gradients = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, ParameterTotal);");
        w.Line("StepInputs = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
        w.Line($"StepTargets = new global::Dsl.Gpu.DeviceBuffer<{targetElement}>(gpu, 0);");
        foreach (LayerPlan layer in plan.Layers)
        {
            string i = I(layer.Index);
            w.Line($"_output{i} = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
            if (layer.KeepsPreActivation)
            {
                w.Line($"_preActivation{i} = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
            }

            w.Line($"_dPreActivation{i} = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
        }

        if (lastActivated)
        {
            w.Line("_dOutput = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
        }

        w.Line("_rowLosses = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
        w.Line("_evaluationLosses = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
        if (classifier)
        {
            w.Line("_rowCorrect = new global::Dsl.Gpu.DeviceBuffer<int>(gpu, 0);");
        }

        w.Line("_loss = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 1);");
        w.Line("_fusedWorkspace = new global::Dsl.Gpu.DeviceBuffer<float>(gpu, 0);");
        w.Line(classifier ? "_lossKernel = new global::Dsl.Gpu.GpuSoftmaxCrossEntropy(gpu);" : "_lossKernel = new global::Dsl.Gpu.GpuMeanSquaredError(gpu);");
        w.Line("_reduction = new global::Dsl.Gpu.GpuReduction(gpu);");
        w.Line("if (!fused)");
        w.OpenBrace();
        foreach (LayerPlan layer in plan.Layers)
        {
            w.Line($"_dense{I(layer.Index)} = {DenseConstruction(plan, layer)};");
        }

        w.Line("_biasGradient = new global::Dsl.Gpu.GpuBiasGradient(gpu);");
        if (lastActivated)
        {
            w.Line($"_outputActivationBackward = new global::Dsl.Gpu.GpuActivationBackward<{GpuActivationType(lastLayer.Layer)}>(gpu, {GpuActivationValue(lastLayer.Layer)});");
        }

        w.Line("return;");
        w.CloseBrace();
        w.Line();
        w.Line("// Shapes as constants: each layer's widths, activation and parameter offsets.");
        w.Line("_fusedPlan = global::Dsl.Gpu.FusedMlpPlan.Create(");
        w.Line($"    {I(plan.InputSize)},");
        w.Line("    [");
        foreach (LayerPlan layer in plan.Layers)
        {
            w.Line($"        new global::Dsl.Gpu.FusedLayer({I(layer.FanIn)}, {I(layer.Units)}, global::Dsl.Activation.{layer.Layer.Activation}, {F(layer.Layer.Slope)}, {I(layer.WeightOffset)}, {I(layer.BiasOffset)}),");
        }

        w.Line("    ],");
        w.Line($"    global::Dsl.Loss.{(classifier ? "SoftmaxCrossEntropy" : "MeanSquaredError")});");
        w.Line("_fused = global::Dsl.Gpu.FusedMlp.Load(gpu);");
        w.CloseBrace();
        w.Line();
        w.Line("/// <summary>True when training steps run the fully fused kernel.</summary>");
        w.Line("public bool IsFused => _fused is not null;");
        w.Line();

        // Capacity.
        w.Line("public void EnsureCapacity(int rows)");
        w.OpenBrace();
        w.Line("if (rows <= _capacity)");
        w.OpenBrace();
        w.Line("return;");
        w.CloseBrace();
        w.Line();
        w.Line("StepInputs.EnsureLength(checked((long)rows * InputWidth));");
        w.Line(classifier ? "StepTargets.EnsureLength(rows);" : "StepTargets.EnsureLength(checked((long)rows * OutputWidth));");
        foreach (LayerPlan layer in plan.Layers)
        {
            string i = I(layer.Index);
            w.Line($"_output{i}.EnsureLength(checked((long)rows * {I(layer.Units)}));");
            if (layer.KeepsPreActivation)
            {
                w.Line($"_preActivation{i}.EnsureLength(checked((long)rows * {I(layer.Units)}));");
            }

            w.Line($"_dPreActivation{i}.EnsureLength(checked((long)rows * {I(layer.Units)}));");
        }

        if (lastActivated)
        {
            w.Line("_dOutput.EnsureLength(checked((long)rows * OutputWidth));");
        }

        w.Line("_rowLosses.EnsureLength(rows);");
        w.Line("_evaluationLosses.EnsureLength(rows);");
        if (classifier)
        {
            w.Line("_rowCorrect.EnsureLength(rows);");
        }

        w.Line("if (_fused is not null)");
        w.OpenBrace();
        w.Line("_fusedWorkspace.EnsureLength(_fused.WorkspaceLength(_fusedPlan, rows));");
        w.CloseBrace();
        w.Line();
        w.Line("_capacity = rows;");
        w.CloseBrace();
        w.Line();

        // Forward.
        w.Line("// Forward over `rows` rows of `input` (rows, InputWidth); keeps each layer's output (and z where phi' needs it).");
        w.Line("public void Forward(global::ILGPU.ArrayView<float> input, int rows)");
        w.OpenBrace();
        w.Line("EnsureCapacity(rows);");
        w.Line("if (_fused is not null)");
        w.OpenBrace();
        w.Line($"_fused.Predict(Stream, _fusedPlan, Parameters.View, input, {View($"_output{last}", plan.OutputSize)}, rows);");
        w.Line("return;");
        w.CloseBrace();
        w.Line();
        foreach (LayerPlan layer in plan.Layers)
        {
            string i = I(layer.Index);
            string inputView = layer.Index == 0 ? "input" : View($"_output{I(layer.Index - 1)}", layer.FanIn);
            string pre = layer.KeepsPreActivation ? View($"_preActivation{i}", layer.Units) : "default";
            string bias = layer.BiasOffset < 0 ? "default" : $"Parameters.Slice({I(layer.BiasOffset)}, {I(layer.Units)})";
            w.Line($"// {layer.Layer.PropertyName}: (rows, {I(layer.FanIn)}) -> (rows, {I(layer.Units)})");
            w.Line($"_dense{i}!.Forward(Stream, {View($"_output{i}", layer.Units)}, {pre}, {inputView}, Parameters.Slice({I(layer.WeightOffset)}, {I(layer.WeightCount)}), {bias}, rows, {I(layer.FanIn)}, {I(layer.Units)});");
        }

        w.CloseBrace();
        w.Line();

        // The logits of the last forward, for Predict.
        w.Line($"public void DownloadOutputs(global::System.Span<float> outputs) => _output{last}.Download(Stream, outputs);");
        w.Line();

        // A training step in two halves, so the network can read the loss between them.
        string targetView = classifier ? "global::ILGPU.ArrayView<int> labels" : "global::ILGPU.ArrayView<float> targets";
        string targetArgument = classifier ? "labels" : "targets";
        w.Line("// The first half of a step: forward and loss, each row's loss into _rowLosses (and the loss's gradient into the");
        w.Line("// workspace); the fused kernel also computes every tile's gradients into its workspace. Writes no gradient and no parameter.");
        w.Line($"public void ForwardLoss(global::ILGPU.ArrayView<float> input, {targetView}, int rows)");
        w.OpenBrace();
        w.Line("EnsureCapacity(rows);");
        w.Line("_lossRows = rows;");
        w.Line("if (_fused is not null)");
        w.OpenBrace();
        w.Line($"_fused.ComputeTiles(Stream, _fusedPlan, Parameters.View, input, {(classifier ? "labels, default" : "default, targets")}, _rowLosses.Slice(0, rows), rows, _fusedWorkspace.View);");
        w.Line("return;");
        w.CloseBrace();
        w.Line();
        w.Line("Forward(input, rows);");
        string lossGradient = lastActivated ? View("_dOutput", plan.OutputSize) : View($"_dPreActivation{last}", lastLayer.Units);
        string outputView = View($"_output{last}", lastLayer.Units);
        w.Line($"_lossKernel.ForwardBackward(Stream, {outputView}, {targetArgument}, {lossGradient}, _rowLosses.Slice(0, rows), rows, OutputWidth);");
        w.CloseBrace();
        w.Line();

        w.Line("// The second half, after ForwardLoss over the same rows: the backward pass. Gradients land in Gradients, and");
        w.Line("// `update` (None: gradients only) is applied to each parameter as its gradient is finished, never as a pass of its own:");
        w.Line("// layer by layer in each weight-gradient GEMM and bias reduction (after the layer's dX has read W), fused in the");
        w.Line("// reduction of the groups' gradient sums.");
        w.Line("public void Backward(global::ILGPU.ArrayView<float> input, int rows, global::Dsl.Gpu.GpuParameterUpdate update)");
        w.OpenBrace();
        w.Line("if (_fused is not null)");
        w.OpenBrace();
        w.Line("_fused.ReduceSlots(Stream, _fusedPlan, Gradients.View, _fusedWorkspace.View, rows, update);");
        w.Line("return;");
        w.CloseBrace();
        w.Line();
        if (lastActivated)
        {
            string derivativeInput = View(lastLayer.KeepsPreActivation ? $"_preActivation{last}" : $"_output{last}", lastLayer.Units);
            w.Line($"_outputActivationBackward!.Apply(Stream, {View($"_dPreActivation{last}", lastLayer.Units)}, {lossGradient}, {derivativeInput}, {outputView}, rows * OutputWidth);");
        }

        for (int index = plan.Layers.Count - 1; index >= 0; index--)
        {
            LayerPlan layer = plan.Layers[index];
            string i = I(index);
            string inputView = index == 0 ? "input" : View($"_output{I(index - 1)}", layer.FanIn);
            w.Line($"// {layer.Layer.PropertyName}: dX first (it reads W), then dW = dz^T x and db = column sums of dz, each updating its parameters");
            if (index > 0)
            {
                LayerPlan previous = plan.Layers[index - 1];
                string p = I(index - 1);
                string derivativeInput = View(previous.KeepsPreActivation ? $"_preActivation{p}" : $"_output{p}", previous.Units);
                w.Line($"_dense{i}!.BackwardInput(Stream, {View($"_dPreActivation{p}", layer.FanIn)}, {View($"_dPreActivation{i}", layer.Units)}, Parameters.Slice({I(layer.WeightOffset)}, {I(layer.WeightCount)}), {derivativeInput}, {View($"_output{p}", layer.FanIn)}, rows, {I(layer.FanIn)}, {I(layer.Units)});");
            }

            w.Line($"_dense{i}!.BackwardWeights(Stream, Gradients.Slice({I(layer.WeightOffset)}, {I(layer.WeightCount)}), {View($"_dPreActivation{i}", layer.Units)}, {inputView}, rows, {I(layer.FanIn)}, {I(layer.Units)}, update.At({I(layer.WeightOffset)}));");
            if (layer.BiasOffset >= 0)
            {
                w.Line($"_biasGradient!.Compute(Stream, Gradients.Slice({I(layer.BiasOffset)}, {I(layer.Units)}), {View($"_dPreActivation{i}", layer.Units)}, rows, {I(layer.Units)}, update.At({I(layer.BiasOffset)}));");
            }
        }

        w.CloseBrace();
        w.Line();

        w.Line("// The mean of the last ForwardLoss's row losses: one reduction launch and a one-float copy (waits for the stream).");
        w.Line("public float ReadLoss()");
        w.OpenBrace();
        w.Line("_reduction.Mean(Stream, _rowLosses.Slice(0, _lossRows), _lossRows, _loss.View);");
        w.Line("global::System.Span<float> mean = stackalloc float[1];");
        w.Line("_loss.Download(Stream, mean);");
        w.Line("return mean[0];");
        w.CloseBrace();
        w.Line();

        // Evaluation of one chunk already in StepInputs/StepTargets.
        w.Line("// Forward and per-row loss of `rows` rows in StepInputs/StepTargets; returns the loss sum (and correct count).");
        w.Line(classifier ? "public double EvaluateChunk(int rows, out long correct)" : "public double EvaluateChunk(int rows)");
        w.OpenBrace();
        w.Line("Forward(StepInputs.Slice(0, (long)rows * InputWidth), rows);");
        w.Line("if (_hostRowLosses.Length < rows)");
        w.OpenBrace();
        w.Line("_hostRowLosses = new float[rows];");
        if (classifier)
        {
            w.Line("_hostRowCorrect = new int[rows];");
        }

        w.CloseBrace();
        w.Line();
        if (classifier)
        {
            w.Line($"_lossKernel.Forward(Stream, {outputView}, StepTargets.Slice(0, rows), _evaluationLosses.Slice(0, rows), _rowCorrect.Slice(0, rows), rows, OutputWidth);");
        }
        else
        {
            w.Line($"_lossKernel.Forward(Stream, {outputView}, StepTargets.Slice(0, rows * OutputWidth), _evaluationLosses.Slice(0, rows), rows, OutputWidth);");
        }

        w.Line("_evaluationLosses.Download(Stream, global::System.MemoryExtensions.AsSpan(_hostRowLosses, 0, rows));");
        w.Line("double sum = 0;");
        w.Line("for (int row = 0; row < rows; row++)");
        w.OpenBrace();
        w.Line("sum += _hostRowLosses[row];");
        w.CloseBrace();
        w.Line();
        if (classifier)
        {
            w.Line("_rowCorrect.Download(Stream, global::System.MemoryExtensions.AsSpan(_hostRowCorrect, 0, rows));");
            w.Line("correct = 0;");
            w.Line("for (int row = 0; row < rows; row++)");
            w.OpenBrace();
            w.Line("correct += _hostRowCorrect[row];");
            w.CloseBrace();
            w.Line();
        }

        w.Line("return sum;");
        w.CloseBrace();
        w.Line();

        w.Line("public void Dispose()");
        w.OpenBrace();
        w.Line("Parameters.Dispose();");
        w.Line("Gradients.Dispose();");
        w.Line("StepInputs.Dispose();");
        w.Line("StepTargets.Dispose();");
        foreach (LayerPlan layer in plan.Layers)
        {
            string i = I(layer.Index);
            w.Line($"_output{i}.Dispose();");
            if (layer.KeepsPreActivation)
            {
                w.Line($"_preActivation{i}.Dispose();");
            }

            w.Line($"_dPreActivation{i}.Dispose();");
        }

        if (lastActivated)
        {
            w.Line("_dOutput.Dispose();");
        }

        w.Line("_rowLosses.Dispose();");
        w.Line("_evaluationLosses.Dispose();");
        if (classifier)
        {
            w.Line("_rowCorrect.Dispose();");
        }

        w.Line("_loss.Dispose();");
        w.Line("_fusedWorkspace.Dispose();");
        w.CloseBrace();
        EmitWidths(w, plan);
        w.CloseBrace();
    }

    /// <summary>
    /// One struct per distinct (fanIn, units) of the dense layers, holding them as literals: each layer's GEMM kernels are
    /// specialised on its struct, so they compile with every size but the batch (rows) as a constant, and layers of equal
    /// widths and activations share their kernels.
    /// </summary>
    private static void EmitWidths(SourceWriter w, NetworkPlan plan)
    {
        foreach (LayerPlan layer in plan.Layers.GroupBy(WidthsType).Select(group => group.First()))
        {
            w.Line();
            w.Line($"// fanIn {I(layer.FanIn)}, units {I(layer.Units)} as constants for the GEMM kernels of the layers this wide (the batch stays a launch argument).");
            w.Line($"private readonly struct {WidthsType(layer)} : global::Dsl.Gpu.IDenseWidths");
            w.OpenBrace();
            w.Line("public bool AreConstant => true;");
            w.Line($"public int FanIn => {I(layer.FanIn)};");
            w.Line($"public int Units => {I(layer.Units)};");
            w.CloseBrace();
        }
    }

    private static string WidthsType(LayerPlan layer) => $"Widths{I(layer.FanIn)}x{I(layer.Units)}";

    /// <summary>The view of rows [0, rows) of a (capacity, width) device buffer.</summary>
    private static string View(string buffer, int width) => $"{buffer}.Slice(0, (long)rows * {I(width)})";

    private static string DenseType(NetworkPlan plan, LayerPlan layer)
        => $"global::Dsl.Gpu.GpuDense<{WidthsType(layer)}, {GpuActivationType(layer.Layer)}, {PreviousActivationType(plan, layer)}>";

    private static string DenseConstruction(NetworkPlan plan, LayerPlan layer)
    {
        string previous = layer.Index == 0 ? "new global::Dsl.Gpu.GpuIdentity()" : GpuActivationValue(plan.Layers[layer.Index - 1].Layer);
        return $"new {DenseType(plan, layer)}(gpu, {GpuActivationValue(layer.Layer)}, {previous})";
    }

    /// <summary>The activation whose derivative layer i's dX GEMM fuses: the previous layer's (none for the first layer).</summary>
    private static string PreviousActivationType(NetworkPlan plan, LayerPlan layer)
        => layer.Index == 0 ? "global::Dsl.Gpu.GpuIdentity" : GpuActivationType(plan.Layers[layer.Index - 1].Layer);

    private static string GpuActivationType(LayerSpec layer) => "global::Dsl.Gpu.Gpu" + layer.Activation;

    private static string GpuActivationValue(LayerSpec layer) => layer.Activation switch
    {
        ActivationKind.LeakyRelu => $"new global::Dsl.Gpu.GpuLeakyRelu({F(layer.Slope)})",
        _ => $"new global::Dsl.Gpu.Gpu{layer.Activation}()",
    };

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value) => ((float)value).ToString("R", CultureInfo.InvariantCulture) + "f";
}
