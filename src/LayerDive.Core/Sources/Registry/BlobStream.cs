using System.Net;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// A blob as it streams from the registry. Where the connection breaks or stalls, it asks again with
/// <c>Range</c> from the byte it reached, so the hashes above it simply continue; the size the
/// manifest gives is checked against what arrives (a short or long body is an error after the tries).
/// A stall (no data for the client's time limit, or less than
/// <see cref="RegistryClient.LeastBlobBytesPerSpan"/> in that much waiting) is resumed once: a
/// registry that stalls twice would only stall again.
/// </summary>
internal sealed class BlobStream(RegistryClient client, string digest, long? size, long? maxSize = null) : ReadOnlyForwardStream
{
    private const int MaxResumes = 5;
    private const int MaxStalls = 2;
    private HttpResponseMessage? _response;
    private TimedReadStream? _body;
    private long _position;
    private int _resumes;
    private int _stalls;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (true)
        {
            int n;
            try
            {
                if (_body is null) Connect();
                n = _body!.Read(buffer);
            }
            catch (NetworkStallException ex)
            {
                Broken(ex.Message, stalled: true);
                continue;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
            {
                Broken(ex.Message);
                continue;
            }
            catch (ImageException ex) when (ex.Kind is FaultKind.NotFound or FaultKind.Unreachable)
            {
                // no answer to the request that would resume it (its own tries are behind this): worth one more, as a stall is
                Broken(ex.Message, stalled: true);
                continue;
            }
            if (n > 0)
            {
                _position += n;
                if (_position > size)
                    throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_BlobLargerThanManifest, ImageException.ShortDigest(digest), size));
                if (_position > maxSize) throw TooLarge();
                return n;
            }
            if (size is null || _position == size) return 0;
            Broken(Text.Fill(Strings.Registry_BodyEndedEarly, _position, size));
        }
    }

    private ImageException TooLarge() => new(FaultKind.Damaged, Text.Fill(Strings.Registry_AnswerTooLarge, Text.Fill(Strings.Registry_BlobNamed, ImageException.ShortDigest(digest), client.Describe), maxSize));

    private void Broken(string why, bool stalled = false)
    {
        Disconnect();
        if (stalled && ++_stalls >= MaxStalls)
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_BlobStalled, ImageException.ShortDigest(digest), client.Describe, _stalls, why, _position));
        if (++_resumes > MaxResumes)
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_BlobBrokeOff, ImageException.ShortDigest(digest), client.Describe, MaxResumes + 1, why, _position));
    }

    private void Connect()
    {
        var response = client.Get($"blobs/{digest}", ["*/*"], _position);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Registry_BlobMissing, client.Describe, digest));
        }
        if (!response.IsSuccessStatusCode)
        {
            var text = client.ErrorText(response);
            response.Dispose();
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Registry_BlobStatus, client.Describe, (int)response.StatusCode, ImageException.ShortDigest(digest), text));
        }
        if (response.Content.Headers.ContentLength is long length && maxSize is long max && _position + length > max)
        {
            response.Dispose();
            throw TooLarge();
        }
        var body = new TimedReadStream(response.Content.ReadAsStream(), client.Timeout, leastPerSpan: RegistryClient.LeastBlobBytesPerSpan, variable: RegistryClient.TimeoutVariable);
        (_response, _body) = (response, body);
        if (_position > 0 && response.StatusCode != HttpStatusCode.PartialContent)
        {
            // the registry ignored Range: pass over what was handed out already (the hashes above must not see it twice),
            // under the same limits as the rest of the body
            long skip = _position;
            var scratch = new byte[81920];
            while (skip > 0)
            {
                int n = body.Read(scratch, 0, (int)Math.Min(scratch.Length, skip));
                if (n == 0) break;
                skip -= n;
            }
        }
        else if (_position > 0 && response.Content.Headers.ContentRange?.From is long from && from != _position)
        {
            Disconnect();
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Registry_ResumedWrongOffset, client.Describe, ImageException.ShortDigest(digest), from, _position));
        }
    }

    private void Disconnect()
    {
        _body?.Dispose();
        _response?.Dispose();
        (_body, _response) = (null, null);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Disconnect();
        base.Dispose(disposing);
    }
}
