namespace Dsl
{
    /// <summary>A type of the project's own that takes the name of the runtime's namespace Dsl.Ops.</summary>
    public static class Ops
    {
    }
}
