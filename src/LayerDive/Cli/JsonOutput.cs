using System.Text;
using System.Text.Json;

namespace LayerDive.Cli;

/// <summary>
/// Indented JSON for a command's standard output (names and paths as they are, not \u-escaped), written
/// when disposed; a long document can be let out on the way (<see cref="FlushSome"/>).
/// </summary>
internal sealed class JsonOutput : IDisposable
{
    private readonly MemoryStream _buffer = new();
    private readonly TextWriter _output;

    public JsonOutput(TextWriter output)
    {
        _output = output;
        Writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public Utf8JsonWriter Writer { get; }

    /// <summary>Writes out what is pending once it passes 64 KB (a long list need not be held whole).</summary>
    public void FlushSome()
    {
        if (Writer.BytesPending <= 1 << 16) return;
        Writer.Flush();
        WriteBuffer();
    }

    private void WriteBuffer()
    {
        _output.Write(Encoding.UTF8.GetString(_buffer.GetBuffer(), 0, (int)_buffer.Length));
        _buffer.SetLength(0);
    }

    public void Dispose()
    {
        Writer.Flush();
        WriteBuffer();
        _output.WriteLine();
        Writer.Dispose();
    }
}
