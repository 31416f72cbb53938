namespace Dsl;

/// <summary>
/// A device was asked for by name (<c>Device.Cuda(1)</c>, <c>DSL_DEVICE=opencl</c>) but this machine has no
/// such accelerator. The message names what was asked for and what is present.
/// </summary>
public sealed class DeviceUnavailableException : InvalidOperationException
{
    public DeviceUnavailableException(string requested, string present)
        : base($"No {requested} device is available on this machine; present: {present}.")
    {
        Requested = requested;
    }

    /// <summary>The device asked for, e.g. "cuda:1".</summary>
    public string Requested { get; }
}
