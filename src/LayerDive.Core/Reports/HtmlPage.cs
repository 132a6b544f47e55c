using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace LayerDive.Core.Reports;

/// <summary>
/// What the HTML reports share: the escaping of text an image chose, the page's style and its script
/// (a squarified treemap, a few kilobytes written here: the page loads nothing from elsewhere).
/// </summary>
internal static class HtmlPage
{
    /// <summary>
    /// Text an image chose, made printable and valid UTF-16: control characters and bytes that are not
    /// UTF-8 as escapes (a path as <see cref="PathText.Escape"/> writes it), any other lone surrogate as
    /// <c>\uXXXX</c> (a config's JSON may carry one; the page is UTF-8 and could not hold it).
    /// </summary>
    public static string Clean(string text, bool path = false)
    {
        var s = path ? PathText.Escape(text) : Printable.OneLine(text);
        int i = 0;
        for (; i < s.Length; i++)
            if (char.IsSurrogate(s[i])) break;
        if (i == s.Length) return s;
        var sb = new StringBuilder(s.Length + 8).Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) sb.Append(c).Append(s[++i]);
            else if (char.IsSurrogate(c)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static readonly HtmlEncoder Markup = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>Text for an element's content or an attribute's value (quoted with <c>"</c>): cleaned, then every character HTML reads as markup escaped.</summary>
    public static string H(string text, bool path = false) => Markup.Encode(Clean(text, path));

    /// <summary>A path as the reports show it: "/" and the path, escaped.</summary>
    public static string P(string path) => H("/" + path, path: true);

    /// <summary>
    /// JSON for a <c>&lt;script type="application/json"&gt;</c> element: every <c>&lt;</c>, <c>&gt;</c>,
    /// <c>&amp;</c> and quote escaped as <c>\uXXXX</c>, so no text in it can end the element.
    /// </summary>
    public static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    public static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The page's head: the title, the style. The language is the texts' (en or ru).</summary>
    public static void Start(StringBuilder sb, string title)
    {
        var lang = CultureInfo.CurrentUICulture.Name.StartsWith("ru", StringComparison.Ordinal) ? "ru" : "en";
        sb.Append("<!DOCTYPE html>\n<html lang=\"").Append(lang).Append("\">\n<head>\n<meta charset=\"utf-8\">\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
          // nothing may come from elsewhere: the policy says so to the browser too
          .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n")
          .Append("<meta name=\"color-scheme\" content=\"light dark\">\n")
          .Append("<title>").Append(H(title)).Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
    }

    /// <summary>The page's end: the data for the script, and the script.</summary>
    public static void End(StringBuilder sb, string? dataJson)
    {
        if (dataJson is not null)
        {
            sb.Append("<script type=\"application/json\" id=\"ld-data\">").Append(dataJson).Append("</script>\n");
            sb.Append("<script>\n").Append(Script).Append("</script>\n");
        }
        sb.Append("</body>\n</html>\n");
    }

    /// <summary>A table of rows already escaped; the header cells name the columns, numeric columns align right.</summary>
    public static void Table(StringBuilder sb, string id, string caption, string[] header, IEnumerable<string[]> rows, Func<int, bool>? numeric = null)
    {
        sb.Append("<table id=\"").Append(id).Append("\">\n<caption>").Append(H(caption)).Append("</caption>\n<thead><tr>");
        for (int c = 0; c < header.Length; c++)
            sb.Append("<th scope=\"col\"").Append(numeric?.Invoke(c) == true ? " class=\"num\"" : "").Append('>').Append(H(header[c])).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            for (int c = 0; c < row.Length; c++)
                sb.Append(numeric?.Invoke(c) == true ? "<td class=\"num\">" : "<td>").Append(row[c]).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
    }

    private const string Style = """
:root{--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--add:#2da44e;--mod:#bf8700;--rem:#cf222e;--grow:#0969da;--shrink:#8250df;--stored:#6e7781;--pass:#1a7f37;--fail:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--add:#3fb950;--mod:#d29922;--rem:#f85149;--grow:#4493f8;--shrink:#ab7df8;--stored:#9198a1;--pass:#3fb950;--fail:#f85149}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:16px 20px 40px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
h1{font-size:22px;margin:4px 0 12px;overflow-wrap:anywhere}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
p.note{color:var(--muted);margin:4px 0 8px}
code,.mono,td.path{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}th{background:var(--panel)}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.path,td.step{overflow-wrap:anywhere}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dl.summary dt{color:var(--muted)}dl.summary dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.verdict{display:inline-block;padding:1px 10px;border-radius:10px;color:#fff;font-weight:700}.verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}
#tm-bar{display:flex;gap:8px;align-items:center;margin:6px 0;flex-wrap:wrap}#tm-bar button{font:inherit;padding:2px 10px;border:1px solid var(--line);border-radius:6px;background:var(--panel);color:var(--fg);cursor:pointer}
#tm-path{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}#tm-path button{padding:0 6px}
#tm{position:relative;width:100%;height:560px;border:1px solid var(--line);background:var(--panel);overflow:hidden}
#tm div{position:absolute;overflow:hidden;border:1px solid var(--bg)}#tm .tm-dir{background:var(--panel);cursor:zoom-in}#tm .tm-dir>span{display:block;padding:0 3px;font-size:11px;line-height:15px;white-space:nowrap;color:var(--fg)}
#tm .tm-leaf>span{display:block;padding:1px 3px;font-size:11px;line-height:13px;white-space:nowrap;color:#000}
#tm .tm-rm{background-image:repeating-linear-gradient(45deg,rgba(0,0,0,.28) 0 3px,transparent 3px 7px)}#tm .tm-fold{background-image:radial-gradient(rgba(0,0,0,.25) 1px,transparent 1.5px);background-size:5px 5px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:6px 0;padding:0;list-style:none}.legend li{display:flex;align-items:center;gap:5px}.legend i{display:inline-block;width:14px;height:14px;border:1px solid var(--line)}
svg.chart{width:100%;height:auto;display:block}svg.chart text{fill:var(--fg);font-size:12px}svg.chart .muted{fill:var(--muted)}
svg.chart .add{fill:var(--add)}svg.chart .mod{fill:var(--mod)}svg.chart .rem{fill:var(--rem)}svg.chart .stored{fill:var(--stored)}svg.chart .grow{fill:var(--grow)}svg.chart .shrink{fill:var(--shrink)}
i.add{background:var(--add)}i.mod{background:var(--mod)}i.rem{background:var(--rem)}i.stored{background:var(--stored)}i.grow{background:var(--grow)}i.shrink{background:var(--shrink)}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--line:#bbb;--panel:#fff}body{max-width:none;padding:0;font-size:11px}#tm-bar button{display:none}#tm{height:420px;break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}h2{break-after:avoid}tr,svg.chart{break-inside:avoid}}

""";

    // The treemap: the data's tree (nodes [name, bytes, colour key, flags, children?]), squarified
    // (Bruls, Huizing, van Wijk), drawn as nested boxes; a click on a directory shows it alone, the
    // path above goes back. Each box's title says its path, size and what wrote it.
    private const string Script = """
(function(){
"use strict";
var D=JSON.parse(document.getElementById("ld-data").textContent),T=D.text,box=document.getElementById("tm");
if(!box)return;
var bar=document.getElementById("tm-path"),back=document.getElementById("tm-back"),stack=[D.tree];
var dark=window.matchMedia&&window.matchMedia("(prefers-color-scheme: dark)").matches;
function human(b){if(b<10)return b+" B";var u=["B","kB","MB","GB","TB","PB","EB"],e=Math.min(Math.floor(Math.log(b)/Math.log(1000)),6),v=Math.floor(b/Math.pow(1000,e)*10+0.5)/10;
if(v<10)return v.toFixed(1)+" "+u[e];var r=Math.round(v);if(Math.abs(v-Math.trunc(v))===0.5)r=2*Math.round(v/2);return r.toFixed(0)+" "+u[e];}
function colour(k){if(D.colours)return D.colours[k]||"#999";if(k<0)return dark?"#6e7781":"#afb8c1";
return "hsl("+((k*137.508+200)%360).toFixed(1)+",62%,66%)";}
function share(n){var m={};(function walk(x){if(x[4]){x[4].forEach(walk);}else if(x[1]>0){m[x[2]]=(m[x[2]]||0)+x[1];}})(n);
var best=-1,bb=-1;for(var k in m){if(m[k]>bb){bb=m[k];best=+k;}}return best;}
function describe(n,path){var s=path+"\n"+human(n[1])+(n[1]>=1000?" ("+n[1].toLocaleString("en-US")+" B)":"");
if(n[4])return s+"\n"+T.zoom;var key=D.keys&&D.keys[n[2]];if(key)s+="\n"+key;if(n[3]&2)s+="\n"+T.removable;return s;}
function squarify(items,x,y,w,h){var total=0,out=[],i=0;items=items.slice().sort(function(p,q){return q[1]-p[1];});items.forEach(function(n){total+=n[1];});if(total<=0||w<=0||h<=0)return out;
var scale=w*h/total;while(i<items.length){var short=Math.min(w,h),row=[],sum=0,best=Infinity;
while(i<items.length){var a=items[i][1]*scale;if(a<=0){i++;continue;}var s2=sum+a,big=row.length?row[0][1]*scale:a;
var worst=Math.max(short*short*big/(s2*s2),s2*s2/(short*short*a));if(row.length&&worst>best)break;row.push(items[i]);sum=s2;best=worst;i++;}
if(!row.length)break;var t=sum/short;
if(w>=h){var yy=y;row.forEach(function(n){var hh=n[1]*scale/t;out.push([n,x,yy,t,hh]);yy+=hh;});x+=t;w-=t;}
else{var xx=x;row.forEach(function(n){var ww=n[1]*scale/t;out.push([n,xx,y,ww,t]);xx+=ww;});y+=t;h-=t;}}return out;}
function join(p,n){return n.charAt(0)==="/"?n:(p==="/"?"/":p+"/")+n;}
function place(parent,n,path,x,y,w,h,depth,flags){var el=document.createElement("div"),f=flags|n[3];
el.style.left=x.toFixed(1)+"px";el.style.top=y.toFixed(1)+"px";el.style.width=Math.max(w,0).toFixed(1)+"px";el.style.height=Math.max(h,0).toFixed(1)+"px";
el.setAttribute("data-path",path);el.setAttribute("data-size",n[1]);el.title=describe(n,path);
if(f&2)el.className="tm-rm ";if(f&1)el.className+="tm-fold ";
var kids=n[4];
if(kids&&kids.length&&w>24&&h>24&&depth<12){el.className+="tm-dir";var label=document.createElement("span");label.textContent=n[0]+"  "+human(n[1]);el.appendChild(label);
var inner=squarify(kids,2,16,w-6,h-20);inner.forEach(function(c){place(el,c[0],join(path,c[0][0]),c[1],c[2],c[3],c[4],depth+1,f);});}
else if(kids&&kids.length){el.className+="tm-dir tm-closed";el.style.background=colour(share(n));}
else{el.className+=f&3?"tm-leaf":"tm-leaf tm-file";el.setAttribute("data-layer",n[2]);el.style.background=colour(n[2]);
if(w>50&&h>16){var s=document.createElement("span");s.textContent=n[0];el.appendChild(s);}}
parent.appendChild(el);}
function pathOf(i){var p="/";for(var k=1;k<=i;k++)p=join(p,stack[k][0]);return p;}
function draw(){box.textContent="";var top=stack[stack.length-1],base=pathOf(stack.length-1),w=box.clientWidth,h=box.clientHeight;
var items=squarify(top[4]||[top],0,0,w,h);items.forEach(function(c){place(box,c[0],top[4]?join(base,c[0][0]):base,c[1],c[2],c[3],c[4],0,0);});
bar.textContent="";stack.forEach(function(n,i){var b=document.createElement("button");b.type="button";b.textContent=i===0?"/":n[0];b.setAttribute("data-depth",i);
b.onclick=function(){stack.length=i+1;draw();};bar.appendChild(b);});back.disabled=stack.length<2;box.setAttribute("data-zoom",base);
var r=box.getBoundingClientRect();box.setAttribute("data-drawn",[Math.round(r.left+window.scrollX),Math.round(r.top+window.scrollY),w,h].join(","));}
box.addEventListener("click",function(e){var el=e.target.closest(".tm-dir");if(!el)return;
var parts=[],x=el;while(x&&x!==box){parts.unshift(x);x=x.parentElement;}
var first=parts[0];if(!first)return;var top=stack[stack.length-1],path=first.getAttribute("data-path");
var kid=(top[4]||[]).filter(function(k){return join(pathOf(stack.length-1),k[0])===path;})[0];if(kid&&kid[4]){stack.push(kid);draw();}});
back.onclick=function(){if(stack.length>1){stack.pop();draw();}};
var pending;window.addEventListener("resize",function(){clearTimeout(pending);pending=setTimeout(draw,100);});
draw();
})();

""";
}
