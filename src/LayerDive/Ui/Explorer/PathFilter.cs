using System.Text;
using System.Text.RegularExpressions;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The explorer's filter (a regex matched against each path as the tree shows it, "a/b/c", as dive
/// matches it) and what its pattern allows, so that a million paths are judged without building each one:
/// <list type="bullet">
/// <item><see cref="WithinName"/>: no match can hold a '/' nor look further than the character beside it. A
/// match then lies within one name, so a path matches when one of its names does, read with the '/' around
/// it (or the path's ends); a name is matched once for every path beneath it.</item>
/// <item><see cref="Required"/>: texts (without '/') that every match holds; a path that lacks one is never tried.</item>
/// <item><see cref="Monotone"/>: nothing in the pattern looks at the end or what follows, so a path beneath a
/// matching one matches too.</item>
/// </list>
/// The pattern is read conservatively: anything not understood here (lookarounds, inline ignore-whitespace,
/// classes that may hold '/') leaves the plain way, the regex over the whole path.
/// </summary>
internal sealed class PathFilter
{
    private PathFilter(Regex regex) => Regex = regex;

    public Regex Regex { get; }

    /// <summary>The pattern is this plain text (no character of it special), found with an ordinal search.</summary>
    public string? Literal { get; private set; }

    /// <summary>A path matches when one of its names, with the '/' around it, does (see the class).</summary>
    public bool WithinName { get; private set; }

    /// <summary>The pattern asserts something about the start, the end or a word boundary: a name is read with the '/' around it.</summary>
    public bool Context { get; private set; }

    /// <summary>A path beneath a matching path matches (the pattern asserts nothing about the end or what follows).</summary>
    public bool Monotone { get; private set; }

    /// <summary>Every match ends at the end of the path (the pattern ends with $, \z or \Z, outside any group or alternation): within its last name.</summary>
    public bool AtEnd { get; private set; }

    /// <summary>A text (without '/') every match ends with at the end of the path: the last name ends with it.</summary>
    public string? Suffix { get; private set; }

    /// <summary>The pattern is <see cref="Suffix"/> then the end, nothing more: a path matches when its last name ends with it.</summary>
    public bool SuffixOnly { get; private set; }

    /// <summary>Texts without '/' that every match holds (at most 8, the longest).</summary>
    public IReadOnlyList<string> Required { get; private set; } = [];

    public override string ToString() => Regex.ToString();

    /// <summary>Whether the regex matches the path (the plain way: the reference the planned ways must equal).</summary>
    public bool IsMatch(ReadOnlySpan<char> path) => Literal is { } text ? path.IndexOf(text, StringComparison.Ordinal) >= 0 : Regex.IsMatch(path);

    private const RegexOptions Understood = RegexOptions.CultureInvariant | RegexOptions.Compiled | RegexOptions.ExplicitCapture | RegexOptions.Singleline | RegexOptions.Multiline;

    public static PathFilter Of(Regex regex)
    {
        var filter = new PathFilter(regex);
        if ((regex.Options & ~Understood) != 0) return filter; // the plain way
        var read = new Reading(regex.ToString());
        if (!read.Read()) return filter;
        filter.AtEnd = read.AtEnd;
        filter.Context = read.Context;
        filter.Monotone = !read.EndSensitive;
        filter.WithinName = !read.Slash && !read.Unsupported;
        if (!read.IgnoreCase)
        {
            if (read.Plain) filter.Literal = read.Text.ToString();
            if (!read.Alternation)
                filter.Required = [.. read.Runs.Where(r => r.Length > 0).Distinct().OrderByDescending(r => r.Length).Take(8)];
            if (read.AtEnd && read.Suffix.Length > 0) filter.Suffix = read.Suffix;
            filter.SuffixOnly = read.SuffixOnly;
        }
        return filter;
    }

    /// <summary>One conservative pass over a .NET pattern: what it may match and assert.</summary>
    private sealed class Reading(string p)
    {
        private int _i, _depth;
        private readonly StringBuilder _run = new();

        public bool Slash, Context, EndSensitive, Unsupported, IgnoreCase, Alternation, AtEnd, SuffixOnly;
        public string Suffix = "";
        public bool Plain = true;
        public readonly StringBuilder Text = new();
        public readonly List<string> Runs = [];

        /// <summary>False for a pattern this reading does not understand.</summary>
        public bool Read()
        {
            while (_i < p.Length)
            {
                char c = p[_i++];
                switch (c)
                {
                    case '\\':
                        if (!Escape()) return false;
                        break;
                    case '[':
                        if (!Class()) return false;
                        Atom();
                        break;
                    case '(':
                        if (!Group()) return false;
                        break;
                    case ')':
                        if (_depth == 0) return false;
                        _depth--;
                        Atom();
                        break;
                    case '|':
                        Plain = false;
                        if (_depth == 0) Alternation = true;
                        break;
                    case '.':
                        Slash = true;
                        Atom();
                        break;
                    case '^':
                        Plain = false;
                        Context = true;
                        EndRun();
                        break;
                    case '$':
                        End();
                        break;
                    case '*' or '+' or '?':
                        return false; // a quantifier with nothing before it (an atom takes its own)
                    case '{' when Quantifier(_i - 1) > 0:
                        return false;
                    default:
                        Char(c);
                        break;
                }
            }
            EndRun();
            return _depth == 0;
        }

        /// <summary>A character matched as itself.</summary>
        private void Char(char c)
        {
            if (c == '/') Slash = true;
            int q = Quantifier(_i);
            if (_depth > 0 || q > 0) Plain = false;
            Text.Append(c);
            if (_depth > 0)
            {
                _i += q;
                return;
            }
            if (c == '/')
            {
                EndRun();
                _i += q;
                return;
            }
            if (q == 0)
            {
                _run.Append(c);
                return;
            }
            // quantified: required once when it must occur at least once, and the run ends with it
            if (MinimumOne(_i, q)) _run.Append(c);
            EndRun();
            _i += q;
        }

        /// <summary>Something other than a plain character (a class, a group, any character): the run ends; its quantifier is skipped.</summary>
        private void Atom()
        {
            Plain = false;
            EndRun();
            _i += Quantifier(_i);
        }

        /// <summary>
        /// The end of the text ($, \Z, \z: alike, as no path holds a newline; the tree shows it \x0a). Last in the
        /// pattern and outside any group and alternation, every match ends there, with the run before it.
        /// </summary>
        private void End()
        {
            if (_i == p.Length && _depth == 0 && !Alternation)
            {
                AtEnd = true;
                Suffix = _run.ToString();
                SuffixOnly = Plain && !Slash && Suffix.Length > 0;
            }
            Plain = false;
            Context = EndSensitive = true;
            EndRun();
        }

        private void EndRun()
        {
            if (_depth == 0 && _run.Length > 0) Runs.Add(_run.ToString());
            _run.Clear();
        }

        /// <summary>The length of a quantifier at <paramref name="at"/> (with its lazy '?'), or 0.</summary>
        private int Quantifier(int at)
        {
            if (at >= p.Length) return 0;
            int end;
            if (p[at] is '*' or '+' or '?') end = at + 1;
            else if (p[at] == '{')
            {
                int j = at + 1;
                int digits = 0;
                while (j < p.Length && char.IsAsciiDigit(p[j])) { j++; digits++; }
                if (digits == 0) return 0;
                if (j < p.Length && p[j] == ',')
                {
                    j++;
                    while (j < p.Length && char.IsAsciiDigit(p[j])) j++;
                }
                if (j >= p.Length || p[j] != '}') return 0;
                end = j + 1;
            }
            else return 0;
            if (end < p.Length && p[end] == '?') end++;
            return end - at;
        }

        /// <summary>Whether the quantifier at <paramref name="at"/> asks for at least one.</summary>
        private bool MinimumOne(int at, int length)
        {
            if (p[at] == '+') return true;
            if (p[at] != '{') return false;
            int j = at + 1;
            int min = 0;
            while (j < at + length && char.IsAsciiDigit(p[j]) && min < 1000) min = min * 10 + (p[j++] - '0');
            return min >= 1;
        }

        private bool Escape()
        {
            if (_i >= p.Length) return false;
            char e = p[_i++];
            switch (e)
            {
                case 'd' or 'w' or 's':
                    Atom();
                    return true;
                case 'D' or 'W' or 'S':
                    Slash = true;
                    Atom();
                    return true;
                case 'z' or 'Z':
                    End();
                    return true;
                case 'b' or 'B':
                    Plain = false;
                    Context = EndSensitive = true;
                    EndRun();
                    return true;
                case 'A':
                    Plain = false;
                    Context = true;
                    EndRun();
                    return true;
                case 'G':
                    Plain = false;
                    Unsupported = true;
                    EndRun();
                    return true;
                case 'k':
                    return false; // a backreference by name: left to the plain way
                case >= '1' and <= '9':
                    // a backreference: what it matches lies within the match, yet it is left to the plain way per path
                    Unsupported = true;
                    while (_i < p.Length && char.IsAsciiDigit(p[_i])) _i++;
                    Atom();
                    return true;
                case 'x':
                    return Hex(2);
                case 'u':
                    return Hex(4);
                case 'c':
                    if (_i >= p.Length) return false;
                    _i++; // a control character, never '/'
                    Atom();
                    return true;
                case 't' or 'n' or 'r' or 'f' or 'v' or 'e' or 'a':
                    Atom();
                    return true;
                case '0' or 'p' or 'P':
                    // an octal character or a Unicode category: may be '/'
                    Slash = true;
                    if (e != '0') return Braces();
                    for (int n = 0; n < 2 && _i < p.Length && p[_i] is >= '0' and <= '7'; n++) _i++;
                    Atom();
                    return true;
                default:
                    if (char.IsAsciiLetterOrDigit(e)) return false;
                    Char(e); // an escaped character stands for itself
                    return true;
            }
        }

        private bool Hex(int digits)
        {
            if (_i + digits > p.Length || !int.TryParse(p.AsSpan(_i, digits), System.Globalization.NumberStyles.AllowHexSpecifier, null, out int v)) return false;
            _i += digits;
            Char((char)v);
            return true;
        }

        private bool Braces()
        {
            if (_i >= p.Length || p[_i] != '{') return false;
            int close = p.IndexOf('}', _i);
            if (close < 0) return false;
            _i = close + 1;
            Atom();
            return true;
        }

        /// <summary>A character class (after its '['): whether it may hold '/', conservatively.</summary>
        private bool Class()
        {
            bool negated = _i < p.Length && p[_i] == '^';
            if (negated) _i++;
            bool mayHold = false, holds = false, first = true;
            while (true)
            {
                if (_i >= p.Length) return false;
                char c = p[_i++];
                if (c == ']' && !first) break;
                first = false;
                if (c == '-' && _i < p.Length && p[_i] == '[') return false; // subtraction: left to the plain way
                int lo = Member(c, ref mayHold);
                if (lo >= 0 && _i + 1 < p.Length && p[_i] == '-' && p[_i + 1] != ']')
                {
                    if (p[_i + 1] == '[') return false; // subtraction
                    _i++;
                    char d = p[_i++];
                    int hi = Member(d, ref mayHold);
                    if (hi < 0) mayHold = true;
                    else if (lo <= '/' && '/' <= hi) holds = true;
                }
                else if (lo == '/') holds = true;
            }
            // a class holds '/' when it names it; a negated one leaves it out only when it names it for sure
            Slash |= negated ? !holds : holds || mayHold;
            return true;
        }

        /// <summary>One member of a class: its character, or -1 for a set (\d, \p{..}), <paramref name="mayHold"/> set when the set may hold '/'.</summary>
        private int Member(char c, ref bool mayHold)
        {
            if (c != '\\') return c;
            if (_i >= p.Length) return -1;
            char e = p[_i++];
            switch (e)
            {
                case 'd' or 'w' or 's':
                    return -1;
                case 'x' or 'u':
                    int digits = e == 'x' ? 2 : 4;
                    if (_i + digits > p.Length || !int.TryParse(p.AsSpan(_i, digits), System.Globalization.NumberStyles.AllowHexSpecifier, null, out int v))
                    {
                        mayHold = true;
                        return -1;
                    }
                    _i += digits;
                    return v;
                case 't': return '\t';
                case 'n': return '\n';
                case 'r': return '\r';
                case 'f': return '\f';
                case 'v': return '\v';
                case 'e': return '\x1b';
                case 'a': return '\a';
                case 'b': return '\b';
                case 'c':
                    if (_i < p.Length) _i++;
                    return 1; // a control character, never '/'
                default:
                    if (!char.IsAsciiLetterOrDigit(e)) return e;
                    // \D, \W, \S, \p{..}, an octal character: may be '/'
                    mayHold = true;
                    if (e is 'p' or 'P' && _i < p.Length && p[_i] == '{')
                    {
                        int close = p.IndexOf('}', _i);
                        _i = close < 0 ? p.Length : close + 1;
                    }
                    return -1;
            }
        }

        private bool Group()
        {
            Plain = false;
            EndRun();
            if (_i >= p.Length || p[_i] != '?')
            {
                _depth++;
                return true;
            }
            _i++;
            if (_i >= p.Length) return false;
            char c = p[_i];
            switch (c)
            {
                case ':':
                    _i++;
                    _depth++;
                    return true;
                case '>':
                    // an atomic group gives nothing back: what it ate of a longer path is not retried, so a
                    // match on a directory says nothing of the paths under it ((?>.*)(?<=c) takes abc, not abc/d)
                    _i++;
                    EndSensitive = true;
                    _depth++;
                    return true;
                case '=' or '!':
                    // a lookahead: looks past the match
                    _i++;
                    Unsupported = EndSensitive = true;
                    _depth++;
                    return true;
                case '#':
                    int close = p.IndexOf(')', _i);
                    if (close < 0) return false;
                    _i = close + 1;
                    return true;
                case '<' or '\'':
                    if (c == '<' && _i + 1 < p.Length && p[_i + 1] is '=' or '!')
                    {
                        // a lookbehind: looks before the match
                        _i += 2;
                        Unsupported = true;
                        _depth++;
                        return true;
                    }
                    char end = c == '<' ? '>' : '\'';
                    int stop = p.IndexOf(end, _i + 1);
                    if (stop < 0) return false;
                    if (p.AsSpan(_i + 1, stop - _i - 1).Contains('-')) Unsupported = true; // a balancing group
                    _i = stop + 1;
                    _depth++;
                    return true;
                default:
                    // inline options: (?imnsx-imnsx) or (?imnsx-imnsx:...)
                    bool on = true;
                    while (_i < p.Length && p[_i] is 'i' or 'm' or 'n' or 's' or 'x' or '-')
                    {
                        char o = p[_i++];
                        if (o == '-') on = false;
                        else if (o == 'x') return false; // whitespace and '#' would mean something else
                        else if (o == 'i' && on) IgnoreCase = true;
                    }
                    if (_i >= p.Length) return false;
                    if (p[_i] == ')')
                    {
                        _i++;
                        return true;
                    }
                    if (p[_i] != ':') return false; // a conditional, or something not read here
                    _i++;
                    _depth++;
                    return true;
            }
        }
    }
}
