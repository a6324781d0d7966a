/** The console's one stylesheet, served from its own origin (the CSP allows styles from 'self' only). */
export const CONSOLE_CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#fff}
a{color:#1a4fa0}
a:focus,button:focus,input:focus,select:focus,.table:focus{outline:3px solid #ffbf47;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}
.skip:focus{left:.5rem}
header{background:#10253f;color:#fff;padding:.75rem 1rem}
header a{color:#fff}
header .product{margin:0 0 .25rem;font-weight:700}
header ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
header .who{margin:.25rem 0 0;font-size:.9rem}
main{padding:1rem;max-width:80rem}
h1{font-size:1.75rem;margin:.5rem 0 1rem}
h2{font-size:1.3rem;margin:1.5rem 0 .5rem}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
.hint{color:#454545;margin:0 0 .25rem;font-size:.95rem}
input[type=text],input[type=password],input[type=number],select{font:inherit;padding:.4rem;border:2px solid #1b1b1b;border-radius:0;width:100%;max-width:24rem}
input[type=checkbox]{width:1.25rem;height:1.25rem;vertical-align:middle}
.check label{display:inline;font-weight:400}
fieldset{border:0;padding:0;margin:0 0 1rem}
legend{font-weight:700}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:0 1rem;margin-bottom:1rem}
button{font:inherit;padding:.45rem 1rem;border:0;background:#0b6b3a;color:#fff;cursor:pointer;margin:.5rem .5rem .5rem 0}
button.reject{background:#a4161a}
button.secondary{background:#1a4fa0}
form.inline{display:inline}
.table{overflow-x:auto;max-width:100%;margin-bottom:1rem}
table{border-collapse:collapse;min-width:100%}
caption{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #b1b4b6;vertical-align:top}
td.number,th.number{text-align:right}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.facts dt{font-weight:700}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.notice{border-left:5px solid #0b6b3a;padding:.5rem 1rem;background:#f3f2f1}
.problem{border:4px solid #a4161a;padding:.5rem 1rem}
.problem h2{margin-top:0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.9rem}
svg{max-width:100%;height:auto}
@media (max-width:40rem){main{padding:.75rem}h1{font-size:1.4rem}dl.facts{grid-template-columns:1fr}}
`;
