using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LayerDive.Tests.Support;

/// <summary>
/// A network namespace a test makes for itself (<c>ip netns add layerdive-RANDOM</c>): its loopback up,
/// and on that loopback one address that is not loopback (<see cref="OtherHost"/>, from the
/// benchmarking range 198.18.0.0/15). Inside it 127.0.0.1, 127.0.0.2 and 198.18.0.2 reach servers
/// there, and it has no other interface, so nothing sent inside can leave and nothing outside can reach
/// it: a host other than this one, for a client inside, without any traffic to this machine's own
/// addresses; a name looked up inside asks 127.0.0.1 (its own resolv.conf), not this machine's
/// resolver. Servers listen inside it (<see cref="NewSocket"/>), a child process runs inside it
/// (<see cref="Command"/>); Dispose deletes it.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    /// <summary>The namespace's address that is not loopback.</summary>
    public static readonly IPAddress OtherHost = IPAddress.Parse("198.18.0.2");

    private const int CloneNewNet = 0x40000000;
    private readonly string _ip;
    private bool _deleted;

    private NetworkNamespace(string ip, string name) => (_ip, Name) = (ip, name);

    public string Name { get; }

    /// <summary>
    /// A new namespace for <paramref name="purpose"/>; without one the test skips saying why, or fails
    /// under CI=true (where .ci/run runs as root).
    /// </summary>
    public static NetworkNamespace Create(string purpose)
    {
        if (TryCreate(out var why) is { } net) return net;
        why = $"{purpose} needs a network namespace of the test's own: {why}";
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why);
        Assert.Skip(why);
        throw new UnreachableException();
    }

    /// <summary>A new namespace, or null and why not (not root, no <c>ip</c>, or <c>ip</c> failed).</summary>
    public static NetworkNamespace? TryCreate(out string why)
    {
        why = "";
        if (!OperatingSystem.IsLinux()) { why = "network namespaces are Linux's"; return null; }
        if (Environment.UserName != "root") { why = "making a network namespace (ip netns add) needs root"; return null; }
        var ip = new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            .Select(d => Path.Combine(d, "ip")).FirstOrDefault(File.Exists);
        if (ip is null) { why = "the ip command is not installed (apt-get install iproute2)"; return null; }
        var net = new NetworkNamespace(ip, $"layerdive-{Guid.NewGuid():N}"[..22]);
        if (net.Ip("netns", "add", net.Name) is { } failed) { why = failed; return null; }
        // from here on the namespace exists: it is deleted whatever fails next
        var setup = net.Ip("-n", net.Name, "link", "set", "lo", "up")
            ?? net.Ip("-n", net.Name, "addr", "add", $"{OtherHost}/32", "dev", "lo")
            ?? net.WriteResolvConf();
        if (setup is not null)
        {
            why = setup;
            try { net.Dispose(); }
            catch (InvalidOperationException e) { why += "; " + e.Message; }
            return null;
        }
        return net;
    }

    /// <summary>
    /// A socket made inside the namespace: made on a thread of its own that entered the namespace
    /// (setns), so that no other thread of this process moves; the socket stays in the namespace it was
    /// made in, whichever thread uses it later.
    /// </summary>
    public Socket NewSocket(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/run/netns", Name));
                if (SetNs(handle, CloneNewNet) != 0)
                    throw new IOException($"setns into the network namespace {Name} failed (errno {Marshal.GetLastPInvokeError()})");
                socket = new Socket(family, type, protocol);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "setns " + Name };
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException($"no socket inside {Name}", failure);
        return socket!;
    }

    /// <summary>The command line that runs <paramref name="program"/> inside the namespace (<c>ip netns exec</c>, which execs it: the same process).</summary>
    public string[] Command(string program) => [_ip, "netns", "exec", Name, program];

    /// <summary>
    /// The namespace's own /etc/resolv.conf (ip netns exec mounts /etc/netns/NAME/resolv.conf over it):
    /// a name looked up inside asks 127.0.0.1, never this machine's resolver; null when written.
    /// </summary>
    private string? WriteResolvConf()
    {
        try
        {
            Directory.CreateDirectory(EtcDir);
            File.WriteAllText(Path.Combine(EtcDir, "resolv.conf"), "nameserver 127.0.0.1\n");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot write {EtcDir}/resolv.conf: {e.Message}";
        }
    }

    private string EtcDir => Path.Combine("/etc/netns", Name);

    /// <summary>Runs ip with <paramref name="args"/>; null when it succeeded, else what it said.</summary>
    private string? Ip(params string[] args)
    {
        var psi = new ProcessStartInfo(_ip) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            p.Kill();
            return $"ip {string.Join(' ', args)} did not finish within 30 s";
        }
        return p.ExitCode == 0 ? null : $"ip {string.Join(' ', args)} failed (exit {p.ExitCode}): {stderr.Result.Trim()}";
    }

    // DllImport, not LibraryImport: the test project compiles no unsafe code
    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(SafeFileHandle fd, int nstype);

    /// <summary>Deletes the namespace (it goes when the last socket in it is closed); a namespace left behind fails the test.</summary>
    public void Dispose()
    {
        if (_deleted) return;
        _deleted = true;
        if (Directory.Exists(EtcDir)) Directory.Delete(EtcDir, recursive: true);
        if (Ip("netns", "delete", Name) is { } failed) throw new InvalidOperationException(failed);
    }
}
