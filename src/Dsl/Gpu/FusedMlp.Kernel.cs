using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

// The fully fused kernels. A group of GroupSize threads runs one tile at a time: batch rows
// [t * tileRows, + rows) with rows = min(tileRows, batch - first row), so only the last tile is partial. tileRows
// (at most TileRows, which the shared-memory layout is sized for) is chosen per launch: fewer rows per tile spread a
// small batch over more multiprocessors and shorten each group's serial work (FusedMlpLauncher.RowsPerTile).
// All of the tile's activations stay in shared memory (layout in FusedMlpPlan); weights are read from global
// memory (they are small and shared by every group, so they live in L1/L2). Every phase loops its threads over
// the phase's elements with stride GroupSize and ends with Group.Barrier(), so each phase sees the previous
// one's shared-memory writes. Loop bounds and branches around barriers depend only on the plan and the tile,
// never on the thread, so every thread reaches every barrier.
public static partial class FusedMlp
{
    /// <summary>
    /// Forward, loss and backward of tiles Grid.IdxX, Grid.IdxX + Grid.DimX, ...: writes the loss of each row to
    /// <paramref name="rowLosses"/> and the group's sum over its tiles of dLoss/dparameters to its own slot of
    /// <paramref name="slots"/> (slot g = elements [g P, (g + 1) P) for P = plan.ParameterCount), overwriting it.
    /// Each slot element is written by one thread, in tile order, so the sums are deterministic; <see cref="ReduceSlotsKernel"/>
    /// adds the slots. The loss is the batch mean, so each row's gradient carries 1/batch.
    /// </summary>
    /// <param name="specializedPlan">The network, created by <see cref="FusedMlpPlan.Create(int, ReadOnlySpan{FusedLayer}, Loss)"/>.</param>
    /// <param name="parameters">Flat parameters, plan.ParameterCount or more.</param>
    /// <param name="slots">(Grid.DimX, P): each group's gradient sum, in the parameters' layout; overwritten.</param>
    /// <param name="inputs">x (batch, InputWidth).</param>
    /// <param name="labels">Class per row in [0, OutputWidth), (batch), for softmax cross-entropy (else unread).</param>
    /// <param name="targets">(batch, OutputWidth) for mean squared error (else unread).</param>
    /// <param name="rowLosses">(batch): each row's loss; their mean is the batch loss.</param>
    /// <param name="batch">Rows of the whole batch (the 1/batch scaling); the launch has at most ceil(batch / tileRows) groups.</param>
    /// <param name="tileRows">Rows per tile, in [1, TileRows].</param>
    internal static void TrainKernel(
        SpecializedValue<FusedMlpPlan> specializedPlan, ArrayView<float> parameters, ArrayView<float> slots, ArrayView<float> inputs,
        ArrayView<int> labels, ArrayView<float> targets, ArrayView<float> rowLosses, int batch, int tileRows)
    {
        FusedMlpPlan plan = specializedPlan.Value; // a constant on a GPU: one compiled kernel per plan
        ArrayView<float> tile = SharedMemory.Allocate<float>(SharedFloats);
        ArrayView<float> slot = slots.SubView((long)Grid.IdxX * plan.ParameterCount, plan.ParameterCount);
        int tiles = (batch + tileRows - 1) / tileRows;
        for (int t = Grid.IdxX; t < tiles; t += Grid.DimX)
        {
            bool firstTile = t == Grid.IdxX; // overwrite the slot, then add to it
            int firstRow = t * tileRows;
            int rows = batch - firstRow < tileRows ? batch - firstRow : tileRows;

            ForwardTile(plan, parameters, inputs, tile, firstRow, rows);

            // The last layer's y becomes dz = dLoss/dy * phi'(z).
            if (plan.LossCode == (int)Loss.SoftmaxCrossEntropy)
            {
                SoftmaxCrossEntropyTile(plan[plan.LayerCount - 1], labels, rowLosses, tile, firstRow, rows, batch);
            }
            else
            {
                MeanSquaredErrorTile(plan[plan.LayerCount - 1], targets, rowLosses, tile, firstRow, rows, batch);
            }

            Group.Barrier();

            for (int l = plan.LayerCount - 1; l >= 0; l--)
            {
                FusedLayer layer = plan[l];
                SumParameterGradients(layer, slot, tile, rows, firstTile);
                if (l > 0)
                {
                    // dz of layer l-1 overwrites its y, which the weight gradients above were still reading.
                    Group.Barrier();
                    PropagateToPreviousLayer(layer, plan[l - 1], parameters, tile, rows);
                }

                // After layer 0 this also keeps the next tile's inputs from overwriting what is still read.
                Group.Barrier();
            }
        }
    }

    /// <summary>
    /// Gradient i = the sum of the slots' element i in slot order, stored and handed to <paramref name="update"/>
    /// (<see cref="NoUpdate"/>: gradients only). One thread per parameter.
    /// </summary>
    /// <param name="slots">(slotCount, parameterCount), written by <see cref="TrainKernel"/>.</param>
    /// <param name="gradients">(parameterCount); overwritten.</param>
    internal static void ReduceSlotsKernel<TRule>(Index1D i, ArrayView<float> slots, ArrayView<float> gradients, int slotCount, int parameterCount, TRule update)
        where TRule : struct, IGpuUpdateRule
    {
        float sum = slots[i];
        for (int s = 1; s < slotCount; s++)
        {
            sum += slots[((long)s * parameterCount) + i];
        }

        gradients[i] = sum;
        update.Apply(i, sum);
    }

    /// <summary>Forward of one tile of <paramref name="tileRows"/> rows (at most TileRows); writes the last layer's outputs to <paramref name="outputs"/> (batch, OutputWidth).</summary>
    internal static void PredictKernel(SpecializedValue<FusedMlpPlan> specializedPlan, ArrayView<float> parameters, ArrayView<float> inputs, ArrayView<float> outputs, int batch, int tileRows)
    {
        FusedMlpPlan plan = specializedPlan.Value; // a constant on a GPU: one compiled kernel per plan
        ArrayView<float> tile = SharedMemory.Allocate<float>(SharedFloats);
        int firstRow = Grid.IdxX * tileRows;
        int rows = batch - firstRow < tileRows ? batch - firstRow : tileRows;

        ForwardTile(plan, parameters, inputs, tile, firstRow, rows);

        FusedLayer last = plan[plan.LayerCount - 1];
        long start = (long)firstRow * last.Units;
        int count = rows * last.Units;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            outputs[start + i] = tile[last.TileOutput + i];
        }
    }

    /// <summary>
    /// Loads the tile's inputs and runs every layer: z = x W^T + b per (row, unit) pair, kept when phi' needs it,
    /// and y = phi(z). Ends with a barrier.
    /// </summary>
    private static void ForwardTile(FusedMlpPlan plan, ArrayView<float> parameters, ArrayView<float> inputs, ArrayView<float> tile, int firstRow, int rows)
    {
        long start = (long)firstRow * plan.InputWidth;
        int inputCount = rows * plan.InputWidth;
        for (int i = Group.IdxX; i < inputCount; i += Group.DimX)
        {
            tile[i] = inputs[start + i]; // x0 sits at offset 0
        }

        Group.Barrier();

        for (int l = 0; l < plan.LayerCount; l++)
        {
            FusedLayer layer = plan[l];
            int count = rows * layer.Units;
            for (int i = Group.IdxX; i < count; i += Group.DimX)
            {
                // i = r * Units + o, the position of (r, o) in the (TileRows, Units) buffers.
                int r = i / layer.Units;
                int o = i - (r * layer.Units);
                int x = layer.TileInput + (r * layer.FanIn); // x[r, 0]
                int w = layer.WeightOffset + (o * layer.FanIn); // W[o, 0]
                float sum = 0f;
                for (int k = 0; k < layer.FanIn; k++)
                {
                    sum = (tile[x + k] * parameters[w + k]) + sum;
                }

                float z = layer.BiasOffset >= 0 ? sum + parameters[layer.BiasOffset + o] : sum;
                if (layer.TilePreActivation >= 0)
                {
                    tile[layer.TilePreActivation + i] = z;
                }

                tile[layer.TileOutput + i] = Activate(layer.ActivationCode, layer.Slope, z);
            }

            Group.Barrier();
        }
    }

    /// <summary>
    /// Softmax cross-entropy of the tile's rows, one warp per row (lanes over classes, shuffle reductions):
    /// loss = log sum_j e^(x_j - m) - (x_label - m) with m the row maximum, and in place of the logits
    /// dz_j = (softmax_j - [j = label]) / batch * phi'(z_j). A label outside [0, classes) gives a NaN loss and
    /// no one-hot term.
    /// </summary>
    private static void SoftmaxCrossEntropyTile(FusedLayer last, ArrayView<int> labels, ArrayView<float> rowLosses, ArrayView<float> tile, int firstRow, int rows, int batch)
    {
        int classes = last.Units;
        float inverseBatch = 1f / batch;
        int warps = Group.DimX / Warp.WarpSize;
        for (int r = Warp.WarpIdx; r < rows; r += warps)
        {
            int logits = last.TileOutput + (r * classes); // y[r, 0]
            int label = labels[firstRow + r];
            bool valid = (uint)label < (uint)classes;

            // Read before the reductions: a shuffle is where every lane has finished reading the logits, and
            // only after it do lanes overwrite them.
            float labelLogit = valid ? tile[logits + label] : float.NaN;

            float max = float.NegativeInfinity;
            for (int j = Warp.LaneIdx; j < classes; j += Warp.WarpSize)
            {
                max = MathF.Max(max, tile[logits + j]);
            }

            max = WarpMax(max);

            float sum = 0f;
            for (int j = Warp.LaneIdx; j < classes; j += Warp.WarpSize)
            {
                sum += GpuMath.Exp(tile[logits + j] - max);
            }

            sum = GpuReduction.WarpSum(sum);

            float inverseSum = 1f / sum;
            for (int j = Warp.LaneIdx; j < classes; j += Warp.WarpSize)
            {
                float y = tile[logits + j];
                float probability = GpuMath.Exp(y - max) * inverseSum;
                float dy = (j == label ? probability - 1f : probability) * inverseBatch;
                float z = last.TilePreActivation >= 0 ? tile[last.TilePreActivation + (r * classes) + j] : y;
                tile[logits + j] = dy * Derivative(last.ActivationCode, last.Slope, z, y);
            }

            if (Warp.LaneIdx == 0)
            {
                rowLosses[firstRow + r] = GpuMath.Log(sum) - (labelLogit - max);
            }
        }
    }

    /// <summary>
    /// Mean squared error of the tile's rows, one warp per row: the row's loss is mean_j (y_j - t_j)^2 (so the
    /// batch loss, the mean of all batch x outputs squares, is the mean of the row losses) and in place of y,
    /// dz_j = 2 (y_j - t_j) / (batch outputs) * phi'(z_j), as <c>Dsl.Ops.MeanSquaredError</c>.
    /// </summary>
    private static void MeanSquaredErrorTile(FusedLayer last, ArrayView<float> targets, ArrayView<float> rowLosses, ArrayView<float> tile, int firstRow, int rows, int batch)
    {
        int outputs = last.Units;
        float scale = 2f / ((float)batch * outputs);
        int warps = Group.DimX / Warp.WarpSize;
        for (int r = Warp.WarpIdx; r < rows; r += warps)
        {
            int output = last.TileOutput + (r * outputs); // y[r, 0]
            long target = (long)(firstRow + r) * outputs;  // t[row, 0]
            float squares = 0f;
            for (int j = Warp.LaneIdx; j < outputs; j += Warp.WarpSize)
            {
                float y = tile[output + j];
                float difference = y - targets[target + j];
                squares = (difference * difference) + squares;
                float z = last.TilePreActivation >= 0 ? tile[last.TilePreActivation + (r * outputs) + j] : y;
                tile[output + j] = difference * scale * Derivative(last.ActivationCode, last.Slope, z, y);
            }

            squares = GpuReduction.WarpSum(squares);
            if (Warp.LaneIdx == 0)
            {
                rowLosses[firstRow + r] = squares / outputs;
            }
        }
    }

    /// <summary>
    /// The tile's dW[o, k] = sum over its rows of dz[r, o] x[r, k] and db[o] = sum dz[r, o], written to the group's
    /// slot (<paramref name="firstTile"/>) or added to it. Element i of the layer's weight (or bias) range is always
    /// handled by thread i mod GroupSize, so a slot element sees one thread's writes, in tile order. Reads dz (in the layer's output buffer) and x.
    /// </summary>
    private static void SumParameterGradients(FusedLayer layer, ArrayView<float> slot, ArrayView<float> tile, int rows, bool firstTile)
    {
        int count = layer.Units * layer.FanIn;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            // i = o * FanIn + k, the position of W[o, k].
            int o = i / layer.FanIn;
            int k = i - (o * layer.FanIn);
            float sum = 0f;
            for (int r = 0; r < rows; r++)
            {
                sum = (tile[layer.TileOutput + (r * layer.Units) + o] * tile[layer.TileInput + (r * layer.FanIn) + k]) + sum;
            }

            int index = layer.WeightOffset + i;
            slot[index] = firstTile ? sum : slot[index] + sum;
        }

        if (layer.BiasOffset >= 0)
        {
            for (int o = Group.IdxX; o < layer.Units; o += Group.DimX)
            {
                float sum = 0f;
                for (int r = 0; r < rows; r++)
                {
                    sum += tile[layer.TileOutput + (r * layer.Units) + o];
                }

                int index = layer.BiasOffset + o;
                slot[index] = firstTile ? sum : slot[index] + sum;
            }
        }
    }

    /// <summary>
    /// dz of the previous layer, in place of its output: dzPrev[r, k] = (sum_o dz[r, o] W[o, k]) phiPrev'(zPrev, yPrev).
    /// Each element is read (yPrev, zPrev) and written by the same thread; dz lives in another buffer.
    /// </summary>
    private static void PropagateToPreviousLayer(FusedLayer layer, FusedLayer previous, ArrayView<float> parameters, ArrayView<float> tile, int rows)
    {
        int count = rows * layer.FanIn;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            // i = r * FanIn + k, the position of (r, k) in the previous layer's (TileRows, Units) buffers.
            int r = i / layer.FanIn;
            int k = i - (r * layer.FanIn);
            int dz = layer.TileOutput + (r * layer.Units); // dz[r, 0]
            float sum = 0f;
            for (int o = 0; o < layer.Units; o++)
            {
                sum = (tile[dz + o] * parameters[layer.WeightOffset + (o * layer.FanIn) + k]) + sum;
            }

            float y = tile[previous.TileOutput + i];
            float z = previous.TilePreActivation >= 0 ? tile[previous.TilePreActivation + i] : y;
            tile[previous.TileOutput + i] = sum * Derivative(previous.ActivationCode, previous.Slope, z, y);
        }
    }

    /// <summary>The maximum of <paramref name="value"/> over the warp's lanes, in every lane.</summary>
    private static float WarpMax(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            value = MathF.Max(value, Warp.ShuffleXor(value, offset));
        }

        return value;
    }
}
