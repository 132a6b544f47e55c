// The HTML report's treemap: the data's tree (nodes [name, bytes, colour key, flags, children?]),
// squarified (Bruls, Huizing, van Wijk), drawn as nested boxes; a click on a directory shows it alone,
// the path above goes back. Each box's title says its path, size and what wrote it. Built into
// LayerDive.Core and inlined in every page (HtmlPage.cs): the page loads nothing from elsewhere.
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
el.setAttribute("data-path",path);el.setAttribute("data-size",n[1]);el.title=describe(n,path);el.ldNode=n;
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
// the directories from the map's top down to the one clicked, each a step of the zoom
var parts=[],x=el;while(x&&x!==box){parts.unshift(x);x=x.parentElement;}
var before=stack.length;parts.forEach(function(p){if(p.ldNode&&p.ldNode[4])stack.push(p.ldNode);});if(stack.length>before)draw();});
back.onclick=function(){if(stack.length>1){stack.pop();draw();}};
var pending;window.addEventListener("resize",function(){clearTimeout(pending);pending=setTimeout(draw,100);});
draw();
})();
