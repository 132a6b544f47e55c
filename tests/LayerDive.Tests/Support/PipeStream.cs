namespace LayerDive.Tests.Support;

/// <summary>Standard output as a pipe gives it: written to, never sought or read back; the bytes land in <paramref name="inner"/>.</summary>
internal sealed class PipeStream(Stream inner) : LayerDive.Core.Layers.WriteOnlyForwardStream
{
    public override void Flush() => inner.Flush();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
}
