using Dsl;

namespace Mnist1dTraining;

/// <summary>The networks the main job trains, by the name <c>--model</c> takes.</summary>
internal static class Models
{
    public static readonly string[] Names = ["mlp", "residual-mlp", "deep-residual", "cnn"];

    /// <summary>The name, if it is one of <see cref="Names"/>.</summary>
    /// <exception cref="UsageException">It is not.</exception>
    public static string Check(string name)
        => Array.IndexOf(Names, name) >= 0 ? name : throw new UsageException($"--model must be one of {string.Join(", ", Names)}; got '{name}'");

    /// <summary>A fresh network of the named model.</summary>
    /// <remarks>
    /// Each model's weight decay reaches every parameter, biases and norm gains included: the recipe of the PyTorch script
    /// it is compared with (bench/torch_mnist1d.py), whose torch.optim.Adam has one parameter group.
    /// </remarks>
    public static IClassifierNetwork Create(string name, Device device, ulong seed)
    {
        IClassifierNetwork model = name switch
        {
            "mlp" => new Mnist1dMlp(device, seed),
            "residual-mlp" => new Mnist1dResidualMlp(device, seed),
            "deep-residual" => new Mnist1dDeepResidual(device, seed),
            "cnn" => new Mnist1dCnn(device, seed),
            _ => throw new UsageException($"--model must be one of {string.Join(", ", Names)}; got '{name}'"),
        };
        model.Training.DecayNormsAndBiases = true;
        return model;
    }
}
