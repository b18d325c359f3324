// The browser's phone for the join pages (issue 20): one call over SIP on a WebSocket into
// Asterisk (JsSIP), audio only, media by ICE with host candidates only (no STUN or TURN
// server is asked: iceServers is empty) and DTLS-SRTP. The browser makes the SDP offer: an
// offer made by Asterisk drops DTLS packets before ICE completes. Keys go as RFC 4733 events in
// the audio stream (JsSIP's 'RFC2833'), never SIP INFO, so the IVR hears them as a phone's.
//
// window.DialconfPhone.call({wsUrl, target, extraHeaders, audioElement, onState, displayName})
// returns {sendDtmf(digits), mute(bool), micLevel(), stats(), hangup(), connection()}.
// onState(state, detail): 'connecting', 'calling', 'ringing', 'in-call', 'ended', 'failed'.
import JsSIP from "jssip";

const WEB_HEADER = "X-Dialconf-Web: 1"; // conference_ivr/pbx/names.py WEB_HEADER: the PJSIP identify
const TONE_MS = 160; // each key's length; a phone's is about 100-200 ms
const GAP_MS = 120; // between two keys

function hostOf(wsUrl) {
  return new URL(wsUrl).hostname.replace(/^\[|\]$/g, "") || "dialconf.invalid";
}

function call({ wsUrl, target, extraHeaders = [], audioElement, onState = () => {}, displayName = "" }) {
  const host = hostOf(wsUrl);
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(wsUrl)],
    uri: `sip:web@${host.includes(":") ? `[${host}]` : host}`,
    display_name: displayName || undefined,
    register: false,
    session_timers: false,
    user_agent: "dialconf-phone",
  });
  let session = null;
  let analyser = null;
  let ended = false;

  const finish = (state, detail) => {
    if (ended) return;
    ended = true;
    onState(state, detail);
    ua.stop();
  };

  const attachRemote = (pc) => {
    pc.addEventListener("track", (ev) => {
      if (audioElement && ev.track.kind === "audio") {
        audioElement.srcObject = ev.streams[0] || new MediaStream([ev.track]);
        const played = audioElement.play();
        if (played) played.catch(() => {}); // autoplay refused: the call goes on, muted locally
      }
    });
  };

  ua.on("connected", () => {
    if (session || ended) return;
    onState("calling");
    session = ua.call(`sip:${target}@${host.includes(":") ? `[${host}]` : host}`, {
      mediaConstraints: { audio: true, video: false },
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
      pcConfig: { iceServers: [], rtcpMuxPolicy: "require", bundlePolicy: "max-bundle" },
      extraHeaders: [WEB_HEADER, ...extraHeaders],
      eventHandlers: {
        progress: () => onState("ringing"),
        confirmed: () => onState("in-call"),
        ended: (e) => finish("ended", e.cause),
        failed: (e) => finish("failed", e.cause),
      },
    });
    if (session.connection) attachRemote(session.connection);
    else session.on("peerconnection", (e) => attachRemote(e.peerconnection));
  });
  ua.on("disconnected", () => {
    if (!session) finish("failed", "no connection to the conference server");
  });
  onState("connecting");
  ua.start();

  const localTrack = () => {
    const pc = session && session.connection;
    const sender = pc && pc.getSenders().find((s) => s.track && s.track.kind === "audio");
    return sender ? sender.track : null;
  };

  return {
    sendDtmf(digits) {
      if (session && session.isEstablished()) {
        session.sendDTMF(String(digits), { transportType: "RFC2833", duration: TONE_MS, interToneGap: GAP_MS });
      }
    },
    mute(on) {
      if (!session) return;
      if (on) session.mute({ audio: true });
      else session.unmute({ audio: true });
    },
    // The microphone's level, 0..1 (root mean square of the last few milliseconds).
    micLevel() {
      const track = localTrack();
      if (!track) return 0;
      if (!analyser) {
        const ctx = new AudioContext();
        analyser = ctx.createAnalyser();
        analyser.fftSize = 1024;
        ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
      }
      const buf = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      return Math.min(1, Math.sqrt(sum / buf.length) * 4);
    },
    // What the media path does: {dtlsState, packetsReceived, totalAudioEnergy, candidatePair,
    // codec} (the far end's audio as received: packets, energy, its codec's MIME type).
    async stats() {
      const out = { dtlsState: "", packetsReceived: 0, totalAudioEnergy: 0, candidatePair: null, codec: "" };
      const pc = session && session.connection;
      if (!pc) return out;
      const report = await pc.getStats();
      const byId = new Map();
      report.forEach((s) => byId.set(s.id, s));
      report.forEach((s) => {
        if (s.type === "transport") {
          out.dtlsState = s.dtlsState || out.dtlsState;
          const pair = byId.get(s.selectedCandidatePairId);
          if (pair) {
            const local = byId.get(pair.localCandidateId) || {};
            const remote = byId.get(pair.remoteCandidateId) || {};
            out.candidatePair = {
              state: pair.state,
              local: `${local.address || local.ip}:${local.port}`,
              remote: `${remote.address || remote.ip}:${remote.port}`,
            };
          }
        }
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          out.packetsReceived = s.packetsReceived || 0;
          out.totalAudioEnergy = s.totalAudioEnergy || 0;
          const codec = byId.get(s.codecId);
          out.codec = codec ? codec.mimeType : "";
        }
      });
      return out;
    },
    hangup() {
      if (session && !session.isEnded()) session.terminate();
      else finish("ended", "hung up");
    },
    // The RTCPeerConnection (null before the call starts): for tests and diagnostics.
    connection() {
      return session ? session.connection : null;
    },
  };
}

window.DialconfPhone = { call };
