using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using LayerDive.Core.Sources.Containerd.Api.Content;

namespace LayerDive.Core.Sources.Containerd;

/// <summary>
/// One message of the Content service's streamed <c>Read</c> (containerd's ReadContentResponse: field 1
/// the offset, field 2 the bytes), parsed straight from gRPC's buffer into a pooled array: the generated
/// parser gives every 1 MiB message a new array of its own (a large-object allocation per MiB read, which
/// the collector only reclaims in full collections: memory then grows with what is read). The array goes
/// back to the pool when the reader is done with it (<see cref="Release"/>).
/// </summary>
internal sealed class ContentChunk
{
    private byte[]? _array;

    private ContentChunk(long offset, byte[] array, int length) => (Offset, _array, Length) = (offset, array, length);

    /// <summary>The offset containerd sent.</summary>
    public long Offset { get; }

    public int Length { get; }

    /// <summary>The bytes, until released.</summary>
    public ReadOnlyMemory<byte> Data => _array is { } a ? a.AsMemory(0, Length) : throw new ObjectDisposedException(nameof(ContentChunk));

    /// <summary>Gives the array back to the pool; the data is not to be read after.</summary>
    public void Release()
    {
        if (_array is { } a) ArrayPool<byte>.Shared.Return(a);
        _array = null;
    }

    /// <summary>Content.Read with this parser for its messages (the request serialized as generated).</summary>
    public static readonly Method<ReadContentRequest, ContentChunk> ReadMethod = new(
        MethodType.ServerStreaming, "containerd.services.content.v1.Content", "Read",
        Marshallers.Create<ReadContentRequest>(r => r.ToByteArray(), ReadContentRequest.Parser.ParseFrom),
        new Marshaller<ContentChunk>((Action<ContentChunk, SerializationContext>)((_, _) => throw new NotSupportedException()),
            (Func<DeserializationContext, ContentChunk>)(c => Parse(c.PayloadAsReadOnlySequence()))));

    /// <summary>
    /// The message's fields read by protobuf's wire rules (a varint tag; varint, 64-bit, length-delimited
    /// and 32-bit values), unknown fields skipped; a message that breaks them is refused.
    /// </summary>
    internal static ContentChunk Parse(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        long offset = 0;
        byte[]? data = null;
        int length = 0;
        try
        {
            while (!reader.End)
            {
                ulong tag = Varint(ref reader);
                int field = (int)(tag >> 3), wire = (int)(tag & 7);
                switch (wire)
                {
                    case 0:
                        ulong v = Varint(ref reader);
                        if (field == 1) offset = (long)v;
                        break;
                    case 1:
                        Skip(ref reader, 8);
                        break;
                    case 5:
                        Skip(ref reader, 4);
                        break;
                    case 2:
                        ulong n = Varint(ref reader);
                        if (n > (ulong)reader.Remaining) throw new InvalidDataException("a field runs past the end of the message");
                        if (field == 2)
                        {
                            if (data is not null) ArrayPool<byte>.Shared.Return(data);
                            length = (int)n;
                            data = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                            if (!reader.TryCopyTo(data.AsSpan(0, length))) throw new InvalidDataException("a field runs past the end of the message");
                        }
                        reader.Advance((long)n);
                        break;
                    default:
                        throw new InvalidDataException($"wire type {wire} of field {field} is not one protobuf has");
                }
            }
        }
        catch
        {
            if (data is not null) ArrayPool<byte>.Shared.Return(data);
            throw;
        }
        return new ContentChunk(offset, data ?? ArrayPool<byte>.Shared.Rent(1), length);
    }

    private static ulong Varint(ref SequenceReader<byte> reader)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out byte b)) throw new InvalidDataException("the message ends inside a varint");
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("a varint longer than 10 bytes");
    }

    private static void Skip(ref SequenceReader<byte> reader, int n)
    {
        if (reader.Remaining < n) throw new InvalidDataException("a field runs past the end of the message");
        reader.Advance(n);
    }
}
