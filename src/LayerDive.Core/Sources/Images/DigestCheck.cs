using System.Security.Cryptography;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Images;

/// <summary>A document (a manifest, an index, a config) checked against the digest that names it.</summary>
internal static partial class DigestCheck
{
    /// <summary>
    /// Refuses a digest that is not <c>ALGORITHM:ENCODED</c> as the OCI image spec writes it: a digest
    /// becomes a path in a layout and a URL path at a registry, so nothing else may reach either.
    /// </summary>
    public static string WellFormed(string digest) =>
        Grammar().IsMatch(digest) ? digest : throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_NotADigest, digest));

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")]
    private static partial System.Text.RegularExpressions.Regex Grammar();

    /// <summary>Throws <see cref="FaultKind.DigestMismatch"/> when <paramref name="bytes"/> do not hash to <paramref name="digest"/> (sha256 or sha512; another algorithm is not checked).</summary>
    public static void Document(byte[] bytes, string digest, string what)
    {
        string? actual = digest.StartsWith("sha256:", StringComparison.Ordinal) ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes))
            : digest.StartsWith("sha512:", StringComparison.Ordinal) ? "sha512:" + Convert.ToHexStringLower(SHA512.HashData(bytes)) : null;
        if (actual is not null && !string.Equals(actual, digest, StringComparison.OrdinalIgnoreCase))
            throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Image_DigestMismatch, what, digest, actual));
    }
}
