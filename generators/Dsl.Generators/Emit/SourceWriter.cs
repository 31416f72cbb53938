using System;
using System.Text;

namespace Dsl.Generators.Emit;

/// <summary>An indented writer over a <see cref="StringBuilder"/>; '\n' line endings on every machine.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public void Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _indent * 4);
            _text.Append(line);
        }

        _text.Append('\n');
    }

    public void OpenBrace()
    {
        Line("{");
        _indent++;
    }

    public void CloseBrace(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    /// <summary>Writes a doc comment, one '///' line per line of <paramref name="text"/>.</summary>
    public void Doc(string text)
    {
        foreach (string line in text.Split(new[] { '\n' }, StringSplitOptions.None))
        {
            Line(line.Length == 0 ? "///" : "/// " + line);
        }
    }

    public override string ToString() => _text.ToString();
}
