"""Policies (``motornet.policy``), as in MotorNet 0.2."""

from __future__ import annotations

import torch

from . import _engine


class PolicyGRU(torch.nn.Module):
    """One GRU layer and a sigmoid readout: ``u = sigmoid(fc(h))``.

    Parameters are named as in the reference (``gru.weight_ih_l0``, ..., ``fc.bias``), so its state dicts load
    here. Initialisation as the reference's: Xavier-uniform input and readout weights, orthogonal recurrent
    weights, zero GRU biases and a readout bias of -5 (muscles start nearly silent).

    Args:
      input_dim: observation size.
      hidden_dim: GRU units.
      output_dim: motor commands (the effector's muscles).
      device: where the parameters live (the C++ engine's effectors run on the CPU).
    """

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, device=None):
        super().__init__()
        for name, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"PolicyGRU: {name} must be a positive integer, got {value!r}")
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.hidden_dim = hidden_dim
        self.n_layers = 1
        self.gru = torch.nn.GRU(input_dim, hidden_dim, 1, batch_first=True)
        self.fc = torch.nn.Linear(hidden_dim, output_dim)
        self.sigmoid = torch.nn.Sigmoid()
        with torch.no_grad():
            torch.nn.init.xavier_uniform_(self.gru.weight_ih_l0)
            torch.nn.init.orthogonal_(self.gru.weight_hh_l0)
            torch.nn.init.zeros_(self.gru.bias_ih_l0)
            torch.nn.init.zeros_(self.gru.bias_hh_l0)
            torch.nn.init.xavier_uniform_(self.fc.weight)
            torch.nn.init.constant_(self.fc.bias, -5.)
        self.to(self.device)
        self._stepper = _engine.GruPolicyStepper()
        self._last_hidden = None

    def forward(self, x: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: ``x`` (batch, input_dim), ``h0`` (1, batch, hidden_dim) -> (``u`` (batch, output_dim),
        ``h`` (1, batch, hidden_dim)).

        On the CPU in float32/float64 the step is one C++ autograd node (the engine's fused GRU policy step);
        otherwise ``torch.gru_cell`` and a sigmoid readout. Both compute what the reference's ``nn.GRU`` step and
        readout do."""
        # The hidden state this policy returned last time continues its chain as the 2-D tensor the fused step
        # made (a fresh view of it would look like a new episode to the step, which then collects its weight
        # gradients at every step instead of once).
        fields = self.__dict__  # plain lookups: torch.nn.Module's __getattr__ costs a microsecond per name
        last = fields["_last_hidden"]
        hidden = last[1] if last is not None and h0 is last[0] else h0[0]
        gru, fc = self._modules["gru"]._parameters, self._modules["fc"]._parameters
        w_ih, w_hh, b_ih, b_hh = gru["weight_ih_l0"], gru["weight_hh_l0"], gru["bias_ih_l0"], gru["bias_hh_l0"]
        stepped = fields["_stepper"].step(x, hidden, w_ih, w_hh, b_ih, b_hh, fc["weight"], fc["bias"])
        if stepped is None:
            h = torch.gru_cell(x, hidden, w_ih, w_hh, b_ih, b_hh)
            u = torch.sigmoid(torch.addmm(fc["bias"], h, fc["weight"].t()))
        else:
            u, h = stepped
        h3 = h.unsqueeze(0)
        fields["_last_hidden"] = (h3, h)
        return u, h3

    def init_hidden(self, batch_size: int) -> torch.Tensor:
        """Zeros (1, batch_size, hidden_dim) in the parameters' dtype."""
        weight = self.fc.weight
        return torch.zeros((self.n_layers, batch_size, self.hidden_dim), dtype=weight.dtype, device=weight.device)
