"""The member page: one HTML file served by the gateway at ``/member``.

A member connects an EIP-1193 wallet (``window.ethereum``), sees card, tier, expiry, balance and every
perk with why it cannot be redeemed yet, and redeems gasless: the page asks the gateway for the
typed data, the wallet signs it (``eth_signTypedData_v4``), the gateway relays. No framework and no
request to anywhere but the gateway; everything shown is set as text, never as markup.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your loyalty card</title>
<link rel="icon" href="data:,">
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem;
         color: #222; }
  #card { border-radius: 1rem; padding: 1.25rem; background: linear-gradient(135deg, #3b2f2f, #8a6f4d);
          color: #fff; margin: 1rem 0; }
  #card .big { font-size: 2rem; font-weight: 700; }
  ul { list-style: none; padding: 0; }
  li { border: 1px solid #ddd; border-radius: .5rem; padding: .75rem; margin: .5rem 0; display: flex;
       justify-content: space-between; align-items: center; gap: 1rem; }
  .why { color: #a33; font-size: .85rem; }
  button { padding: .5rem 1rem; border-radius: .4rem; border: 0; background: #3b2f2f; color: #fff;
           cursor: pointer; }
  button:disabled { background: #bbb; cursor: default; }
  #status { min-height: 1.5rem; }
</style>
</head>
<body>
<h1>Your loyalty card</h1>
<button id="connect">Connect wallet</button>
<section id="card" hidden>
  <div id="address"></div>
  <div class="big"><span id="balance"></span> points</div>
  <div>Tier: <span id="tier"></span> · <span id="expiry"></span></div>
</section>
<h2 id="perks-title" hidden>Perks</h2>
<ul id="perks"></ul>
<p id="status" role="status"></p>
<script>
"use strict";
let account = null;
const $ = (id) => document.getElementById(id);
const say = (text) => { $("status").textContent = text; };

async function call(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) { throw new Error(data.error ? data.error.message : response.statusText); }
  return data;
}

async function connect() {
  if (!window.ethereum) {
    say("No wallet found: open this page in a browser with an Ethereum wallet.");
    return;
  }
  const accounts = await window.ethereum.request({method: "eth_requestAccounts"});
  account = accounts[0];
  await refresh();
}

async function refresh() {
  const member = await call("/v1/members/" + account);
  $("address").textContent = member.address;
  $("balance").textContent = String(member.balance);
  $("tier").textContent = member.card ? member.card.tier : "no card yet";
  $("expiry").textContent = !member.card ? "" : member.card.valid_until
    ? "valid until " + new Date(member.card.valid_until * 1000).toISOString().slice(0, 10) : "never expires";
  $("card").hidden = false;
  $("perks-title").hidden = false;
  const list = $("perks");
  list.replaceChildren();
  for (const perk of member.perks) {
    const item = document.createElement("li");
    item.dataset.perkId = String(perk.perk_id);
    const text = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = perk.title + " — " + perk.price + " points";
    text.append(title);
    if (perk.description) {
      const description = document.createElement("div");
      description.textContent = perk.description;
      text.append(description);
    }
    for (const reason of perk.why_not) {
      const why = document.createElement("div");
      why.className = "why";
      why.dataset.code = reason.code;
      why.textContent = reason.message;
      text.append(why);
    }
    const button = document.createElement("button");
    button.textContent = "Redeem";
    button.disabled = !perk.can_redeem;
    button.addEventListener("click", () => redeem(perk.perk_id, button));
    item.append(text, button);
    list.append(item);
  }
  document.body.dataset.member = member.address;
}

async function redeem(perkId, button) {
  button.disabled = true;
  try {
    say("Preparing the request…");
    const request = await call("/v1/redemptions/requests", {member: account, perk_id: perkId});
    say("Sign the request in your wallet (it costs you no gas).");
    const signature = await window.ethereum.request({
      method: "eth_signTypedData_v4", params: [account, JSON.stringify(request.typed_data)]});
    say("Redeeming…");
    const done = await call("/v1/redemptions", {typed_data: request.typed_data, signature});
    say("Redeemed: redemption #" + done.redemption_id + " (" + done.points_burned + " points).");
    document.body.dataset.redeemed = String(done.redemption_id);
    await refresh();
  } catch (error) {
    say(error.message);
    button.disabled = false;
  }
}

$("connect").addEventListener("click", () => connect().catch((error) => say(error.message)));
</script>
</body>
</html>
"""


@router.get("/member", response_class=HTMLResponse, include_in_schema=False)
def member_page() -> str:
    """The member page (connect a wallet, see the card, redeem gasless)."""
    return PAGE
