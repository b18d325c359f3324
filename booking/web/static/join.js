// The personal join page (issue 20): names the call token, calls through window.DialconfPhone
// (the JsSIP bundle: call({wsUrl, target, extraHeaders, audioElement, onState}) returning an
// object with sendDtmf, mute(bool), micLevel(), stats(), hangup()), shows the microphone
// level, mute, the people in the conference and the time left (polled).
(function () {
  "use strict";
  const root = document.getElementById("join");
  if (!root) return;
  const w = JSON.parse(root.dataset.words);
  const base = "/join/" + encodeURIComponent(root.dataset.link);
  const token = root.dataset.token;
  const $ = (id) => document.getElementById(id);
  let call = null;
  let muted = false;

  function refuse(message) {
    const p = $("refusal");
    p.textContent = message;
    p.hidden = false;
    $("state").textContent = "";
  }

  function ended() {
    call = null;
    $("call-controls").hidden = true;
    $("join-button").disabled = false;
    $("meter").value = 0;
  }

  // DialconfPhone's states: connecting, calling, ringing, in-call, ended, failed.
  function onState(state) {
    if (state === "in-call") { $("state").textContent = w.in_call; $("call-controls").hidden = false; }
    else if (state === "ended" || state === "failed") { $("state").textContent = w.ended; ended(); }
    else { $("state").textContent = w.connecting; }
  }

  async function join(event) {
    event.preventDefault();
    $("refusal").hidden = true;
    $("join-button").disabled = true;
    const answer = await fetch(base + "/name", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: token, name: $("name").value}),
    });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) { refuse(body.message || w.unknown); $("join-button").disabled = false; return; }
    if (!window.DialconfPhone) { refuse(w.ended); $("join-button").disabled = false; return; }
    onState("connecting");
    call = window.DialconfPhone.call({
      wsUrl: root.dataset.wsUrl,
      target: "join",
      extraHeaders: ["X-Dialconf-Join: " + token],  // the phone adds X-Dialconf-Web: 1 itself
      audioElement: $("remote-audio"),
      onState: onState,
    });
    window.dialconfCall = call;  // the call, for the tests' getStats() (as on the public page)
  }

  function toggleMute() {
    if (!call) return;
    muted = !muted;
    call.mute(muted);
    $("mute").textContent = muted ? w.unmute : w.mute;
    $("mute").setAttribute("aria-pressed", String(muted));
  }

  function meter() {
    if (call) $("meter").value = Math.max(0, Math.min(1, Number(call.micLevel()) || 0));
    window.requestAnimationFrame(meter);
  }

  function person(p) {
    const li = document.createElement("li");
    li.textContent = p.name + (p.moderator ? " (" + w.moderator + ")" : "");
    if (p.web) li.className = "web";
    return li;
  }

  async function poll() {
    try {
      const answer = await fetch(base + "/live", {cache: "no-store"});
      const body = await answer.json();
      if (!answer.ok) { refuse(body.message); return; }
      const list = $("people");
      list.replaceChildren(...(body.people.length ? body.people.map(person)
        : [Object.assign(document.createElement("li"), {className: "muted", textContent: w.nobody})]));
      $("time-left").textContent = body.remaining_s === null ? w.no_end
        : Math.floor(body.remaining_s / 60) + " " + w.minutes;
    } catch (e) { /* the next poll tries again */ }
    window.setTimeout(poll, 3000);
  }

  $("join-form").addEventListener("submit", join);
  $("mute").addEventListener("click", toggleMute);
  $("leave").addEventListener("click", () => { if (call) call.hangup(); ended(); });
  window.requestAnimationFrame(meter);
  poll();
})();
